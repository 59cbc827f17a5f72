/** Drops on a webview: the files named, for the host to check and read. */

/**
 * What a drop names: the Explorer sends its full list as `application/vnd.code.uri-list` or the
 * JSON `ResourceURLs` (`text/uri-list` carries only the first entry), `CodeFiles` as paths; then
 * the standard types. The host decides what of it may be read.
 */
export function droppedUris(dt: Pick<DataTransfer, 'getData'>): string[] {
  const json = (type: string): string[] => {
    try {
      const v: unknown = JSON.parse(dt.getData(type) || '[]');
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  };
  const lines = (type: string) => dt.getData(type).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const found = [lines('application/vnd.code.uri-list'), json('ResourceURLs'), json('CodeFiles'), lines('text/uri-list'), lines('text/plain')].find((l) => l.length > 0) ?? [];
  return found.slice(0, 64);
}

/** Calls `onUris` with what a drop names, `onNothing` when it names nothing (a file from the OS carries bytes, no path). */
export function installDrop(onUris: (uris: string[]) => void, onNothing: () => void): void {
  document.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    document.body.classList.remove('dragging');
    const uris = ev.dataTransfer ? droppedUris(ev.dataTransfer) : [];
    if (uris.length) onUris(uris);
    else onNothing();
  });
}
