/**
 * A fixed train/test split given on disk: ROOT/train/ and ROOT/test/ (or training/, testing/),
 * each holding the layout's class folders. Every folder-based layout reads it the same way (plain
 * class folders, class folders with sibling masks); the MVTec AD layout has its own
 * `<cat>/train/good` + `test/<type>`. Both folders must exist and train/ must hold class folders;
 * otherwise `train` and `test` are ordinary class names.
 */
import path from 'node:path';
import { listSubdirs } from './walk';

const SPLIT_NAMES: Record<string, 'train' | 'test'> = { train: 'train', training: 'train', test: 'test', testing: 'test' };

/** One folder whose sub-folders are classes, and the official split its images belong to (none: no fixed split). */
export interface SplitPart {
  dir: string;
  split?: 'train' | 'test';
}

/** True when ROOT holds train/ and test/ folders and train/ holds class folders. */
export async function hasSplitFolders(root: string): Promise<boolean> {
  const subs = await listSubdirs(root);
  const train = subs.find((s) => SPLIT_NAMES[s.toLowerCase()] === 'train');
  const test = subs.find((s) => SPLIT_NAMES[s.toLowerCase()] === 'test');
  if (!train || !test) return false;
  return (await listSubdirs(path.join(root, train))).length > 0;
}

/** The folders holding class folders: ROOT/train and ROOT/test when the split is given, else ROOT alone. */
export async function splitParts(root: string): Promise<SplitPart[]> {
  if (!(await hasSplitFolders(root))) return [{ dir: root }];
  const parts: SplitPart[] = [];
  for (const s of await listSubdirs(root)) {
    const which = SPLIT_NAMES[s.toLowerCase()];
    if (which) parts.push({ dir: path.join(root, s), split: which });
  }
  return parts;
}
