/**
 * Image-folder reader: ROOT/<class>/**\/*.{png,jpg,...}, class = first folder level. Also reads
 * trees with an official split, ROOT/{train,test}/<class>/** (e.g. the CIFAR-10 JPEG tree),
 * whose test side becomes the test set. A file that is a mask beside its image (by the mask
 * rule, `NAME.png` next to `NAME.jpg`) is never read as an image: it is counted and warned about.
 */
import fs from 'node:fs/promises';
import sharp from 'sharp';
import path from 'node:path';
import type { Catalog, CatalogItem } from './catalog';
import { decodeFiles } from './decode-files';
import { isImageFile } from './decode';
import { pairMasks, type MaskRule } from './masks';
import { splitParts } from './split-folders';
import { listSubdirs, walkFiles } from './walk';
import { InputError } from './types';

export { hasSplitFolders } from './split-folders';

export async function readImageFolder(root: string, rule: MaskRule = { maskSuffix: '.png' }): Promise<Catalog> {
  const items: CatalogItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const warnings: string[] = [];
  let ignoredFiles = 0;
  let siblingMasks = 0;
  const classSet = new Set<string>();

  const parts = await splitParts(root);
  const split = parts.some((p) => p.split);

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
      const masks = await maskFiles(files, rule);
      siblingMasks += masks.size;
      ignoredFiles += masks.size;
      let n = 0;
      for (const f of files) {
        if (!isImageFile(f) || masks.has(f)) {
          if (!masks.has(f)) ignoredFiles++;
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
  if (siblingMasks) {
    warnings.push(`${siblingMasks} files are masks beside their images (NAME${rule.maskSuffix} next to NAME.jpg); they are not used as images. To train with them as masks, pass --format masks.`);
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

/**
 * The files of one class folder that are masks of another image there. In a folder of image + mask
 * pairs (at least half the images that could have a mask have one: the masks layout's own rule) a
 * sibling `NAME.png` is a mask by its name, and so is a lone one among the pairs. Below that, a
 * sibling is a mask only if its pixels look like one (a plain folder may hold an unrelated
 * `x.png` beside `x.jpg`).
 */
async function maskFiles(files: string[], rule: MaskRule): Promise<Set<string>> {
  const p = pairMasks(files, rule);
  const suffix = rule.maskSuffix.toLowerCase();
  const paired = p.images.filter((i) => i.mask !== undefined);
  const couldHaveMask = p.images.filter((i) => !i.image.toLowerCase().endsWith(suffix));
  if (paired.length === 0) return new Set();
  if (paired.length * 2 >= couldHaveMask.length) return new Set([...paired.map((i) => i.mask!), ...p.orphanMasks]);
  const out = new Set<string>();
  for (const i of paired) if (await looksLikeMask(i.mask!)) out.add(i.mask!);
  return out;
}

/**
 * A mask by its pixels: grey (R = G = B everywhere) and nearly all black or white. Tools write
 * masks as grey, palette or RGB PNGs alike, so the header cannot tell; an unreadable file is not a
 * mask (it is reported as an unreadable image).
 */
async function looksLikeMask(file: string): Promise<boolean> {
  try {
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const c = info.channels;
    let binary = 0;
    for (let i = 0; i < data.length; i += c) {
      const v = data[i];
      if (c >= 3 && (data[i + 1] !== v || data[i + 2] !== v)) return false;
      if (v === 0 || v === 255) binary++;
    }
    return binary >= 0.95 * (data.length / c);
  } catch {
    return false;
  }
}
