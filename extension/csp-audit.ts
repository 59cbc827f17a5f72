/**
 * Audits webview HTML against Flawscope's policy (used by the unit tests and by the tests in the
 * real extension host on the HTML the panels were actually given). Returns a list of problems.
 */
export interface CspAudit {
  csp: Map<string, string[]>;
  nonce: string | null;
  problems: string[];
}

const ATTR = /([a-zA-Z-:]+)\s*=\s*"([^"]*)"/g;
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function tags(html: string, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const re = new RegExp(`<${name}\\b([^>]*)>`, 'gi');
  for (let m; (m = re.exec(html)); ) {
    const attrs: Record<string, string> = {};
    for (let a; (a = ATTR.exec(m[1])); ) attrs[a[1].toLowerCase()] = unescape(a[2]);
    ATTR.lastIndex = 0;
    out.push(attrs);
  }
  return out;
}

export function parseCsp(policy: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) m.set(name.toLowerCase(), values);
  }
  return m;
}

export function auditWebviewHtml(html: string, opts: { cspSource: string; expectWasm: boolean }): CspAudit {
  const problems: string[] = [];
  // webview.cspSource may be several tokens (code-server: "'self' https://*.vscode-cdn.net").
  const source = opts.cspSource.trim().split(/\s+/);
  const same = (v: string[] | undefined) => !!v && v.length === source.length && v.every((x) => source.includes(x));
  const metas = tags(html, 'meta').filter((t) => (t['http-equiv'] ?? '').toLowerCase() === 'content-security-policy');
  if (metas.length !== 1) problems.push(`expected exactly one CSP meta tag, found ${metas.length}`);
  const csp = parseCsp(metas[0]?.content ?? '');
  const headIdx = html.search(/<meta[^>]+Content-Security-Policy/i);
  const firstScript = html.search(/<script\b/i);
  if (headIdx < 0 || (firstScript >= 0 && firstScript < headIdx)) problems.push('the CSP meta must come before any script');
  if ((csp.get('default-src') ?? []).join(' ') !== "'none'") problems.push(`default-src must be 'none', is ${csp.get('default-src')?.join(' ')}`);
  const scriptSrc = csp.get('script-src') ?? [];
  const nonces = scriptSrc.filter((v) => /^'nonce-[A-Za-z0-9+/=]+'$/.test(v));
  if (nonces.length !== 1) problems.push(`script-src needs exactly one nonce, has ${nonces.length}`);
  const nonce = nonces[0]?.slice(7, -1) ?? null;
  if (nonce && nonce.length < 16) problems.push('nonce shorter than 16 characters');
  for (const v of scriptSrc) {
    if (v.startsWith("'nonce-")) continue;
    if (v === "'wasm-unsafe-eval'") {
      if (!opts.expectWasm) problems.push("'wasm-unsafe-eval' where no WASM runs");
      continue;
    }
    problems.push(`script-src must hold only the nonce and 'wasm-unsafe-eval', has ${v}`);
  }
  if (opts.expectWasm && !scriptSrc.includes("'wasm-unsafe-eval'")) problems.push("script-src lacks 'wasm-unsafe-eval' for the WASM backend");
  for (const [dir, values] of csp) {
    for (const v of values) {
      if (/^'unsafe-(eval|inline|hashes)'$/.test(v)) problems.push(`${dir} allows ${v}`);
      if (v === '*' || /^(https?|wss?|ftp):?$/.test(v) || /^(https?|wss?):\/\//.test(v)) if (!source.includes(v)) problems.push(`${dir} allows remote origin ${v}`);
      if (v === 'data:' || v === 'blob:' || v === 'filesystem:') problems.push(`${dir} allows ${v}`);
    }
  }
  for (const dir of ['style-src', 'img-src', 'font-src']) {
    const v = csp.get(dir);
    if (!same(v)) problems.push(`${dir} must be exactly the webview cspSource (${opts.cspSource}), is ${v?.join(' ') ?? 'missing'}`);
  }
  const connect = csp.get('connect-src');
  if (opts.expectWasm && !same(connect)) problems.push(`connect-src must be exactly ${opts.cspSource} (model and .wasm fetches), is ${connect?.join(' ') ?? 'missing'}`);
  for (const s of tags(html, 'script')) {
    if (!nonce || s.nonce !== nonce) problems.push(`a <script> without the nonce: ${JSON.stringify(s)}`);
    if (s.src && !/^https:\/\/[^/]*vscode-(cdn|resource)/.test(s.src) && !s.src.startsWith('vscode-'))
      problems.push(`script from outside the webview resource origin: ${s.src}`);
  }
  if (/\son[a-z]+\s*=/i.test(html.replace(/<script[\s\S]*?<\/script>/gi, ''))) problems.push('inline event handler attribute');
  if (/<style\b/i.test(html)) problems.push('inline <style> element');
  if (/\sstyle\s*=/i.test(html)) problems.push('inline style attribute');
  if (/(src|href)\s*=\s*"(https?:)?\/\/(?![^"]*vscode-(cdn|resource))/i.test(html)) problems.push('remote URL in src/href');
  return { csp, nonce, problems };
}
