/** Typed access to the host from a webview script (acquireVsCodeApi, once). */
import type { HostToWebview, PanelKind, WebviewToHost } from '../../../shared/protocol';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };

const api = acquireVsCodeApi();

export function post(m: WebviewToHost): void {
  api.postMessage(m);
}

/** Tells the host this page is running; the generation lets it ignore pages it has replaced. */
export function announceReady(panel: PanelKind): void {
  post({ type: 'ready', panel, generation: Number(document.body.dataset.generation ?? '0') });
}

// Every panel keeps the state the host needs to restore it after a window reload (extension/restore.ts).
window.addEventListener('message', (ev: MessageEvent) => {
  const m = ev.data as HostToWebview | null;
  if (m && typeof m === 'object' && m.type === 'restoreState') api.setState(m.state);
});

export function onMessage(fn: (m: HostToWebview) => void | Promise<void>): void {
  window.addEventListener('message', (ev: MessageEvent) => {
    const m = ev.data as HostToWebview;
    if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
    Promise.resolve(fn(m)).catch((e: unknown) => post({ type: 'log', level: 'error', message: String(e instanceof Error ? e.stack ?? e.message : e).slice(0, 4000) }));
  });
}

export function log(level: 'info' | 'warn' | 'error', message: string): void {
  post({ type: 'log', level, message: message.slice(0, 4000) });
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

window.addEventListener('error', (ev) => log('error', `${ev.message} at ${ev.filename}:${ev.lineno}`));
window.addEventListener('unhandledrejection', (ev) => log('error', `unhandled: ${String(ev.reason instanceof Error ? ev.reason.stack ?? ev.reason.message : ev.reason)}`));
