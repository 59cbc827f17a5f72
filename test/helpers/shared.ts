/**
 * Where the shared real data and the PyTorch reference live: $FLAWSCOPE_SHARED, else ../shared
 * beside the repository (the layout on the team's and CI's machines), else /work/shared (a clone
 * elsewhere, e.g. a CI check in /tmp). Tests fail with the path they looked for when it is absent.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');

export const SHARED: string = (() => {
  const candidates = [process.env.FLAWSCOPE_SHARED, resolve(REPO, '../shared'), '/work/shared'].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(join(c, 'data'))) ?? resolve(REPO, '../shared');
})();
export const SHARED_DATA = join(SHARED, 'data');
export const SHARED_BENCH = join(SHARED, 'bench');
