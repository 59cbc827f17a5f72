/**
 * Layout detection: which reader a folder needs, by `--format` or by what is on disk (IDX files,
 * CIFAR .bin files, a fixed train/test split with sibling masks, an MVTec category, sibling
 * masks, else plain class folders). The split-with-masks check comes before MVTec's: such a tree
 * with a `good` class also has MVTec's train/good + test/, but its masks sit beside the images.
 */
import type { Catalog } from './catalog';
import { readCifar, findCifarDir } from './cifar';
import { readImageFolder } from './folder';
import { hasSplitFolders } from './split-folders';
import { readIdx, findIdxFiles } from './idx';
import { looksLikeMaskFolder, maskRule, readMaskFolder } from './masks';
import { isMvtecCategory, mvtecCategories, readMvtec } from './mvtec';
import type { DataOptions } from './options';
import { checkDataRoot } from './walk';
import { fsReason, InputError } from './types';

export { FORMATS } from './options';

/** Reads what is on disk into a catalog, by `--format` or by detection (options read by parseDataOptions). */
export async function readCatalog(root: string, opts: DataOptions = {}): Promise<Catalog> {
  try {
    return await readCatalogOf(root, opts);
  } catch (err) {
    // Any reader's file it may not read (IDX, CIFAR, a listing): say so, with the path, not a stack.
    const e = err as NodeJS.ErrnoException;
    if ((e?.code === 'EACCES' || e?.code === 'EPERM') && e.path) throw new InputError(`${e.path}: cannot be read: ${fsReason(e)}. Fix its permissions (chmod).`);
    throw err;
  }
}

async function readCatalogOf(root: string, opts: DataOptions): Promise<Catalog> {
  await checkDataRoot(root);
  const format = opts.format ?? 'auto';
  switch (format) {
    case 'idx':
      return readIdx(root);
    case 'cifar':
      return readCifar(root);
    case 'image-folder':
      return readImageFolder(root, maskRule(opts));
    case 'masks':
      return readMaskFolder(root, maskRule(opts));
    case 'mvtec':
      return readMvtec(root, opts.category, maskRule(opts));
    case 'auto':
      if ((await findIdxFiles(root)).length > 0) return readIdx(root);
      if (await findCifarDir(root)) return readCifar(root);
      if ((await hasSplitFolders(root)) && (await looksLikeMaskFolder(root, maskRule(opts)))) return readMaskFolder(root, maskRule(opts));
      if ((await isMvtecCategory(root)) || (await mvtecCategories(root)).length > 0) return readMvtec(root, opts.category, maskRule(opts));
      if (await looksLikeMaskFolder(root, maskRule(opts))) return readMaskFolder(root, maskRule(opts));
      return readImageFolder(root, maskRule(opts));
  }
}

