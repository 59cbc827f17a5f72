/**
 * Which class folder holds the normal images when nobody said: the rule the trainer (plan.ts,
 * resolveNormalClass) and the extension (shared/folder-math.ts, labelFor) share. Dependency-free,
 * so the extension host and the webview bundles can import it.
 */

/** A folder name marks the normal class when one of these is a word in it (any case). */
export const NORMAL_WORDS: readonly string[] = ['good', 'normal', 'ok', 'free'];

/** True when `name` has good/normal/ok/free as a word (split at anything not a letter or digit):
 * `good`, `OK`, `MT_Free`, `train_good`; not `goodness` or `okay`. */
export function looksNormal(name: string): boolean {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((w) => NORMAL_WORDS.includes(w));
}

/** The class names that look normal, in the order given. Exactly one is the normal class; none or
 * several leave the choice to the user. */
export function normalClassCandidates(names: readonly string[]): string[] {
  return names.filter(looksNormal);
}
