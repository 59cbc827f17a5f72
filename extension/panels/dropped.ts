/**
 * Which of the files dropped on the score panel may be scored. The webview is untrusted, so a drop
 * only names files: the host accepts an image inside the workspace folders and nothing else.
 * No `vscode` import (unit-tested in Node).
 */
import * as path from 'node:path';
import { checkPath, type ValidationContext } from '../validate';

/**
 * In a remote window (code-server, Remote-SSH) the Explorer drags `vscode-remote://<authority>/path`:
 * the path is the one the extension host sees, so it is read as a file: URI with the same path.
 */
function asFileUri(u: string): string {
  const m = /^vscode-remote:\/\/[^/]*(\/.*)$/i.exec(u);
  return m ? `file://${m[1]}` : u;
}

export type DropOutcome = { ok: true; path: string } | { ok: false; reason: string };

/** The first dropped URI that is an image inside `ctx.allowedRoots`, or why none is. */
export function droppedImage(uris: readonly string[], ctx: ValidationContext, isImage: (p: string) => boolean): DropOutcome {
  const reasons: string[] = [];
  for (const raw of uris) {
    const u = asFileUri(raw);
    const name = path.basename(u.replace(/[\\/]+$/, '')) || u;
    if (!isImage(decodeURIComponent(name))) {
      reasons.push(`${decodeURIComponent(name)} is not an image Flawscope reads`);
      continue;
    }
    try {
      return { ok: true, path: checkPath(u, ctx, 'dropped file') };
    } catch (e) {
      reasons.push(`${decodeURIComponent(name)}: ${/outside/.test((e as Error).message) ? 'not in a workspace folder' : (e as Error).message}`);
    }
  }
  return { ok: false, reason: reasons.join('; ') || 'nothing was dropped' };
}
