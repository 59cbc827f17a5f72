/**
 * What a training may write and replace. A model is written by renaming a finished folder over
 * `--out`, which deletes whatever was there: so `--out` may only be a new path, an empty folder or
 * a Flawscope model folder, and never the data itself, a folder holding it, or one inside it.
 */
import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { INFO_FILE, MODEL_FILE } from '../scorer/model-format';
import { InputError } from './data/types';
import { OutputExistsError } from './fs-safe';

/** A checkpoint folder: the three files `trainer/checkpoint.ts` writes. */
const CHECKPOINT_FILES = ['state.json', 'tensors.json', 'tensors.bin'];

/** The real path of `p`, or of its nearest existing parent with the rest appended (so a link above --out is seen through). */
function realish(p: string): string {
  let head = resolve(p);
  const rest: string[] = [];
  while (!existsSync(head)) {
    const up = dirname(head);
    if (up === head) break;
    rest.unshift(head.slice(up.length + (up.endsWith(sep) ? 0 : 1)));
    head = up;
  }
  try {
    head = realpathSync(head);
  } catch {
    // unreadable: compare the plain path
  }
  return join(head, ...rest);
}

const within = (child: string, parent: string): boolean => {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

export type FolderKind = 'missing' | 'empty' | 'model' | 'checkpoint' | 'file' | 'link' | 'other';

export function folderKind(path: string): FolderKind {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 'missing';
  }
  if (st.isSymbolicLink()) return 'link';
  if (!st.isDirectory()) return 'file';
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return 'other';
  }
  if (!names.length) return 'empty';
  if (names.includes(INFO_FILE) && names.includes(MODEL_FILE)) return 'model';
  if (CHECKPOINT_FILES.every((f) => names.includes(f))) return 'checkpoint';
  return 'other';
}

function describe(path: string, kind: FolderKind): string {
  switch (kind) {
    case 'file': return `${path} is a file, not a model folder`;
    case 'link': return `${path} is a symbolic link; name the folder itself`;
    case 'checkpoint': return `${path} is a training checkpoint, not a model folder`;
    default: {
      let some: string[] = [];
      try { some = readdirSync(path).slice(0, 3); } catch { /* unreadable */ }
      return `${path} holds files that are not a Flawscope model${some.length ? ` (${some.join(', ')}…)` : ''}`;
    }
  }
}

/**
 * Refuses an --out that a training must not write: the data (or a folder holding it, or one inside
 * it), a file, a link, a non-model folder; an existing model folder only with `replace` (--force,
 * or the model a resumed training continues). Throws InputError naming the path; touches nothing.
 */
export function checkOutputFolder(out: string, o: { data?: string; replace: boolean; flag?: string }): void {
  const flag = o.flag ?? '--out';
  const abs = resolve(out);
  if (o.data) {
    const rOut = realish(abs);
    const rData = realish(o.data);
    if (within(rOut, rData)) throw new InputError(`${flag} ${out}: is ${rOut === rData ? 'the data folder' : `inside the data folder ${o.data}`}; a model is never written among the images — choose a folder outside it`);
    if (within(rData, rOut)) throw new InputError(`${flag} ${out}: holds the data folder ${o.data}; replacing it would delete the images — choose another folder`);
  }
  const kind = folderKind(abs);
  if (kind === 'missing') return;
  if (kind === 'model' || kind === 'empty') {
    if (o.replace) return;
    throw new OutputExistsError(abs);
  }
  throw new InputError(`${flag} ${out}: ${describe(abs, kind)}; Flawscope replaces only a model folder (flawscope.json + model.json) or an empty folder — choose another ${flag}`);
}

/** A checkpoint is written (replaced) at `path` only where nothing or a checkpoint is. */
export function checkCheckpointFolder(path: string): void {
  const kind = folderKind(path);
  if (kind === 'missing' || kind === 'empty' || kind === 'checkpoint') return;
  throw new InputError(`the checkpoint folder ${path}: ${describe(path, kind)}; Flawscope would replace it with the training's checkpoint — move it away or choose another --out`);
}
