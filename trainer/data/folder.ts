/**
 * Image-folder reader: ROOT/<class>/**\/*.{png,jpg,...}, class = first folder level. Also reads
 * trees with an official split, ROOT/{train,test}/<class>/** (e.g. the CIFAR-10 JPEG tree),
 * whose test side becomes the test set.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Catalog, CatalogItem } from './catalog';
import { decodeFiles } from './decode-files';
import { isImageFile } from './decode';
import { listSubdirs, walkFiles } from './walk';
import { InputError } from './types';

const SPLIT_NAMES: Record<string, 'train' | 'test'> = { train: 'train', training: 'train', test: 'test', testing: 'test' };

/** True when ROOT holds train/ and test/ folders that each hold class folders. */
export async function hasSplitFolders(root: string): Promise<boolean> {
  const subs = await listSubdirs(root);
  const train = subs.find((s) => SPLIT_NAMES[s.toLowerCase()] === 'train');
  const test = subs.find((s) => SPLIT_NAMES[s.toLowerCase()] === 'test');
  if (!train || !test) return false;
  return (await listSubdirs(path.join(root, train))).length > 0;
}

export async function readImageFolder(root: string): Promise<Catalog> {
  const items: CatalogItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const warnings: string[] = [];
  let ignoredFiles = 0;
  const classSet = new Set<string>();

  const split = await hasSplitFolders(root);
  const parts: { dir: string; split?: 'train' | 'test' }[] = [];
  if (split) {
    for (const s of await listSubdirs(root)) {
      const which = SPLIT_NAMES[s.toLowerCase()];
      if (which) parts.push({ dir: path.join(root, s), split: which });
    }
  } else parts.push({ dir: root });

  for (const part of parts) {
    // Loose files beside the class folders belong to no class.
    for (const e of await fs.readdir(part.dir, { withFileTypes: true })) {
      if (e.isFile() && !e.name.startsWith('.')) {
        ignoredFiles++;
        if (isImageFile(e.name)) warnings.push(`${path.join(part.dir, e.name)}: image outside any class folder; ignored.`);
      }
    }
    for (const cls of await listSubdirs(part.dir)) {
      classSet.add(cls);
      const { files, problems } = await walkFiles(path.join(part.dir, cls));
      skipped.push(...problems);
      let n = 0;
      for (const f of files) {
        if (!isImageFile(f)) {
          ignoredFiles++;
          continue;
        }
        items.push({ className: cls, source: f, split: part.split });
        n++;
      }
      if (n === 0) {
        warnings.push(`Class folder ${path.join(part.dir, cls)} has no images (${files.length} other files); it is ignored.`);
      }
    }
  }
  if (classSet.size === 0) {
    throw new InputError(
      `${root} has no class sub-folders. Put the images in one folder per class, e.g. ${path.join(root, 'good')}/*.png and ${path.join(root, 'defect')}/*.png.`,
    );
  }
  return {
    layout: split ? 'image-folder-split' : 'image-folder',
    root,
    items,
    classNames: [...classSet].sort(),
    skipped,
    warnings,
    ignoredFiles,
    decode: decodeFiles,
  };
}
