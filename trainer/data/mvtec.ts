/**
 * MVTec AD layout: <category>/train/good/*.png, test/good, test/<defect>/*.png and
 * ground_truth/<defect>/<name>_mask.png. ROOT is one category folder; given the MVTec root
 * (several categories), `--category` picks one. `good` is the normal class; the official split is
 * kept (train has only normal images, so anomalies for training come only from other options).
 * A mask beside its image (`NAME.png` next to `NAME.jpg`, the masks layout's rule) is used when
 * ground_truth/ has none, and is never read as an image.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Catalog, CatalogItem } from './catalog';
import { decodeFiles } from './decode-files';
import { isImageFile } from './decode';
import { pairMasks, type MaskRule } from './masks';
import { listSubdirs, walkFiles } from './walk';
import { InputError } from './types';

async function isDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
}

export async function isMvtecCategory(dir: string): Promise<boolean> {
  return (await isDir(path.join(dir, 'train', 'good'))) && (await isDir(path.join(dir, 'test')));
}

/** Categories below an MVTec root (folders that are themselves MVTec categories). */
export async function mvtecCategories(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await listSubdirs(root)) if (await isMvtecCategory(path.join(root, d))) out.push(d);
  return out;
}

/** `category`: the `--category` chosen, for a folder of several categories. */
export async function readMvtec(root: string, category?: string, rule: MaskRule = { maskSuffix: '.png' }): Promise<Catalog> {
  let dir = root;
  if (!(await isMvtecCategory(root))) {
    const cats = await mvtecCategories(root);
    if (!category) {
      throw new InputError(`${root} holds several MVTec AD categories; choose one with --category (${cats.join(', ') || 'none found'}).`);
    }
    if (!cats.includes(category)) throw new InputError(`Unknown --category "${category}" in ${root}. Categories found: ${cats.join(', ')}.`);
    dir = path.join(root, category);
  }
  const items: CatalogItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const warnings: string[] = [];
  let ignoredFiles = 0;
  let found = 0;
  let imagesWithoutMask = 0;
  const classSet = new Set<string>(['good']);
  const usedMasks = new Set<string>();
  for (const split of ['train', 'test'] as const) {
    if (!(await isDir(path.join(dir, split)))) continue;
    for (const cls of await listSubdirs(path.join(dir, split))) {
      classSet.add(cls);
      const { files, problems } = await walkFiles(path.join(dir, split, cls));
      skipped.push(...problems);
      const paired = pairMasks(files, rule);
      ignoredFiles += paired.ignored + paired.orphanMasks.length;
      for (const { image: f, mask: sibling } of paired.images) {
        let maskPath: string | undefined;
        if (cls !== 'good') {
          const m = path.join(dir, 'ground_truth', cls, path.basename(f, path.extname(f)) + '_mask.png');
          if (sibling && !(await fs.stat(m).catch(() => null))) {
            maskPath = sibling;
            found++;
          } else if (await fs.stat(m).catch(() => null)) {
            maskPath = m;
            usedMasks.add(m);
            found++;
          } else {
            imagesWithoutMask++;
            warnings.push(`${f}: defect image without its mask (${m}).`);
          }
        }
        items.push({ className: cls, source: f, split, maskPath });
      }
    }
  }
  let masksWithoutImage = 0;
  if (await isDir(path.join(dir, 'ground_truth'))) {
    const { files } = await walkFiles(path.join(dir, 'ground_truth'));
    for (const m of files.filter(isImageFile)) {
      if (!usedMasks.has(m)) {
        masksWithoutImage++;
        warnings.push(`${m}: mask without its image; ignored.`);
      }
    }
  }
  if (!items.some((i) => i.className === 'good' && i.split === 'train')) {
    throw new InputError(`No normal images: ${path.join(dir, 'train', 'good')} has no images.`);
  }
  return {
    layout: 'mvtec',
    root: dir,
    items,
    classNames: [...classSet].sort((a, b) => (a === 'good' ? -1 : b === 'good' ? 1 : a < b ? -1 : 1)),
    declaredNormal: 'good',
    skipped,
    warnings,
    ignoredFiles,
    masks: { found, imagesWithoutMask, masksWithoutImage },
    decode: decodeFiles,
  };
}
