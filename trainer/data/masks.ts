/**
 * Folders with pixel masks beside the images, as in the Magnetic-tile set:
 * ROOT/<class>/**\/<name>.jpg + <name>.png (white = defect). The rule is configurable:
 * `--mask-suffix` is what replaces the image's extension to name its mask (default `.png`;
 * e.g. `_mask.png` for `<name>_mask.png`). A file is a mask when an image with the same stem sits
 * beside it. Images without a mask and masks without an image are warned about. A fixed split,
 * ROOT/train/<class>/** and ROOT/test/<class>/** (split-folders.ts), is kept as the test split.
 */
import path from 'node:path';
import type { Catalog, CatalogItem } from './catalog';
import { decodeFiles } from './decode-files';
import { isImageFile } from './decode';
import type { DataOptions } from './options';
import { splitParts } from './split-folders';
import { listSubdirs, walkFiles } from './walk';
import { InputError } from './types';

export interface MaskRule {
  maskSuffix: string;
}

/** The suffix was checked by the options schema (an image extension at its end). */
export function maskRule(opts: DataOptions): MaskRule {
  return { maskSuffix: opts.maskSuffix ?? '.png' };
}

interface Pairing {
  images: { image: string; mask?: string }[];
  orphanMasks: string[];
  ignored: number;
}

function stem(file: string): string {
  const b = path.basename(file);
  const dot = b.lastIndexOf('.');
  return path.join(path.dirname(file), dot > 0 ? b.slice(0, dot) : b);
}

/** Pairs images with masks among `files` (any folders) by the rule. */
export function pairMasks(files: string[], rule: MaskRule): Pairing {
  const imgs = files.filter((f) => isImageFile(f));
  const ignored = files.length - imgs.length;
  const suffix = rule.maskSuffix.toLowerCase();
  // Candidate masks: names ending in the suffix. Their image is any other image file whose stem
  // equals the candidate's name minus the suffix.
  const byStem = new Map<string, string[]>();
  for (const f of imgs) {
    const s = stem(f);
    byStem.set(s, [...(byStem.get(s) ?? []), f]);
  }
  const maskOf = new Map<string, string>();
  const isMask = new Set<string>();
  for (const f of imgs) {
    if (!f.toLowerCase().endsWith(suffix)) continue;
    const base = f.slice(0, f.length - rule.maskSuffix.length);
    const partner = (byStem.get(base) ?? []).find((g) => g !== f && !g.toLowerCase().endsWith(suffix));
    if (partner) {
      maskOf.set(partner, f);
      isMask.add(f);
    }
  }
  const pairedDirs = new Set([...isMask].map((m) => path.dirname(m)));
  const images: { image: string; mask?: string }[] = [];
  const orphanMasks: string[] = [];
  for (const f of imgs) {
    if (isMask.has(f)) continue;
    // With a suffix like ".png", a lone .png in a folder of jpg+png pairs is a mask whose image is
    // missing, not a new image; with a distinctive suffix ("_mask.png") it is one anywhere.
    // (path.extname('.png') is '': a bare extension is the suffix's own last dot part.)
    const distinctive = suffix !== suffix.slice(suffix.lastIndexOf('.'));
    if (f.toLowerCase().endsWith(suffix) && (distinctive || pairedDirs.has(path.dirname(f))) && !maskOf.has(f)) {
      orphanMasks.push(f);
      continue;
    }
    images.push({ image: f, mask: maskOf.get(f) });
  }
  return { images, orphanMasks, ignored };
}

/**
 * True when, in some class folder (ROOT/<class>/ or ROOT/{train,test}/<class>/), at least half
 * the images have a mask beside them: normal images often come without masks, so one class of
 * masked defect images is enough.
 */
export async function looksLikeMaskFolder(root: string, rule: MaskRule): Promise<boolean> {
  for (const part of await splitParts(root)) {
    for (const cls of await listSubdirs(part.dir)) {
      const { files } = await walkFiles(path.join(part.dir, cls));
      const p = pairMasks(files, rule);
      if (p.images.length > 0 && p.images.filter((i) => i.mask).length >= 0.5 * p.images.length) return true;
    }
  }
  return false;
}

export async function readMaskFolder(root: string, rule: MaskRule): Promise<Catalog> {
  const items: CatalogItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const warnings: string[] = [];
  let ignoredFiles = 0;
  let found = 0;
  let imagesWithoutMask = 0;
  let masksWithoutImage = 0;
  const parts = await splitParts(root);
  const classSet = new Set<string>();
  for (const part of parts) for (const cls of await listSubdirs(part.dir)) classSet.add(cls);
  const classNames = [...classSet].sort();
  if (classNames.length === 0) throw new InputError(`${root} has no class sub-folders (expected e.g. MT_Free/Imgs/*.jpg with masks beside them).`);
  for (const part of parts) for (const cls of await listSubdirs(part.dir)) {
    const { files, problems } = await walkFiles(path.join(part.dir, cls));
    skipped.push(...problems);
    const p = pairMasks(files, rule);
    ignoredFiles += p.ignored;
    for (const m of p.orphanMasks) {
      masksWithoutImage++;
      warnings.push(`${m}: mask without its image; ignored.`);
    }
    const unmasked = p.images.filter((i) => !i.mask);
    imagesWithoutMask += unmasked.length;
    found += p.images.length - unmasked.length;
    // A folder with no mask at all is a class of its own kind (normal images need none): one line, not one per image.
    if (unmasked.length && unmasked.length === p.images.length) {
      warnings.push(`Class folder ${path.join(part.dir, cls)}: no masks beside its ${unmasked.length} images; as the normal class its photos are cut into patches, as a defect class each image is used whole (labelled by its folder only).`);
    } else {
      for (const { image } of unmasked) warnings.push(`${image}: image without its mask (${path.basename(stem(image)) + rule.maskSuffix}); used as a whole image, not cut into patches.`);
    }
    for (const { image, mask } of p.images) items.push({ className: cls, source: image, maskPath: mask, split: part.split });
    if (p.images.length === 0) warnings.push(`Class folder ${path.join(part.dir, cls)} has no images; it is ignored.`);
  }
  return {
    layout: 'masks',
    root,
    items,
    classNames,
    skipped,
    warnings,
    ignoredFiles,
    masks: { found, imagesWithoutMask, masksWithoutImage },
    decode: decodeFiles,
  };
}
