/**
 * Directory walking shared by the folder-based readers: sorted (so results do not depend on the
 * file system's order), follows symlinks once, and stops at symlink loops instead of recursing
 * forever.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsReason, InputError } from './types';

export interface WalkResult {
  files: string[];
  /** Loops, broken links and unreadable folders, to report as skipped. */
  problems: { path: string; reason: string }[];
}

/** Lists every regular file under `dir` (recursively), sorted by path. */
export async function walkFiles(dir: string, maxDepth = 32): Promise<WalkResult> {
  const files: string[] = [];
  const problems: { path: string; reason: string }[] = [];
  const visiting = new Set<string>();
  let startReal = '';

  async function visit(d: string, depth: number): Promise<void> {
    let real: string;
    try {
      real = await fs.realpath(d);
    } catch (err) {
      problems.push({ path: d, reason: `cannot resolve (${(err as Error).message})` });
      return;
    }
    if (depth === 0) startReal = real;
    // A link to a folder above the start (e.g. class/loop -> ..) would pull the other classes'
    // images into this one before the loop is noticed: treat it as the loop it is.
    else if (startReal.startsWith(real + path.sep) || real === path.parse(real).root) {
      problems.push({ path: d, reason: 'symlink loop (links to a parent folder); ignored' });
      return;
    }
    if (visiting.has(real)) {
      problems.push({ path: d, reason: 'symlink loop (folder already being read); ignored' });
      return;
    }
    if (depth > maxDepth) {
      problems.push({ path: d, reason: `deeper than ${maxDepth} levels; ignored` });
      return;
    }
    visiting.add(real);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      // The folder asked for (a class folder) must be readable: skipping it would silently drop
      // the whole class. Deeper folders are listed as skipped, with the reason.
      if (depth === 0) throw new InputError(`${d}: cannot list the folder: ${fsReason(err)}. Fix its permissions (chmod) or move it out of the data folder.`);
      problems.push({ path: d, reason: `cannot list folder: ${fsReason(err)}` });
      visiting.delete(real);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // .DS_Store, .git, editor swap files
      const p = path.join(d, e.name);
      if (e.isDirectory()) await visit(p, depth + 1);
      else if (e.isFile()) files.push(p);
      else if (e.isSymbolicLink()) {
        let st: import('node:fs').Stats;
        try {
          st = await fs.stat(p);
        } catch {
          problems.push({ path: p, reason: 'broken symlink; ignored' });
          continue;
        }
        if (st.isDirectory()) await visit(p, depth + 1);
        else if (st.isFile()) files.push(p);
      }
    }
    visiting.delete(real);
  }

  await visit(dir, 0);
  return { files, problems };
}

/** Sorted names of the sub-folders of `dir` (following symlinks). */
export async function listSubdirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
    throw new InputError(`${dir}: cannot list the folder: ${fsReason(err)}. Fix its permissions (chmod).`);
  });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) out.push(e.name);
    else if (e.isSymbolicLink()) {
      const st = await fs.stat(path.join(dir, e.name)).catch(() => null);
      if (st?.isDirectory()) out.push(e.name);
    }
  }
  return out.sort();
}

/** Throws a clear InputError when `root` is missing, not a folder, or empty. */
export async function checkDataRoot(root: string): Promise<void> {
  if (typeof root !== 'string' || root === '') {
    throw new InputError('No data folder given: pass --data DIR.');
  }
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(root);
  } catch {
    throw new InputError(`Data folder ${root} does not exist. Check the path (--data for train).`);
  }
  if (!st.isDirectory()) {
    throw new InputError(`${root} is not a folder. --data expects a folder of class sub-folders (or IDX/CIFAR files).`);
  }
  const entries = (await fs.readdir(root).catch((err: unknown) => {
    throw new InputError(`Data folder ${root} cannot be listed: ${fsReason(err)}. Fix its permissions (chmod).`);
  })).filter((n) => !n.startsWith('.'));
  if (entries.length === 0) {
    throw new InputError(`Data folder ${root} is empty. Put one sub-folder of images per class in it (e.g. ${path.join(root, 'good')}).`);
  }
}
