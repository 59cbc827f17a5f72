/**
 * Image-folder reader: ROOT/<class>/**\/*.{png,jpg,...}, class = first folder level. Also reads
 * trees with an official split, ROOT/{train,test}/<class>/** (e.g. the CIFAR-10 JPEG tree),
 * whose test side becomes the test set. A file that is a mask beside its image (by the mask
 * rule, `NAME.png` next to `NAME.jpg`) is never read as an image: it is counted and warned about.
 */
import fs from 'node:fs/promises';
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
      const masks = maskFiles(files, rule);
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

/** The files of one class folder that are masks of another image there (or lone masks among such pairs). */
function maskFiles(files: string[], rule: MaskRule): Set<string> {
  const p = pairMasks(files, rule);
  const used = new Set([...p.images.map((i) => i.image), ...p.orphanMasks]);
  const out = new Set(p.orphanMasks);
  for (const f of files) if (isImageFile(f) && !used.has(f)) out.add(f);
  return out;
}
