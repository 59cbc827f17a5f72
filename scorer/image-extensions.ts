/**
 * The image file extensions Flawscope reads (lower case, with the dot): one list, and the named
 * subsets of it where a reader takes fewer. Dependency-free (the extension host, the trainer and the
 * scorer's Node adapter all import it).
 */

/** Every extension any part of Flawscope reads as an image. The scorer's Node adapter
 * (`flawscope score`, sharp) reads all of them. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.gif'] as const;

export type ImageExtension = (typeof IMAGE_EXTENSIONS)[number];

/**
 * What the trainer's data readers (trainer/data: folder, MVTec, masks) and the extension (Score
 * Image, Score Folder, the explorer menus in package.json) take as images: all but `.gif`. The
 * difference is kept as it was when the lists were merged, not explained by any recorded reason:
 * GIF is palette-limited and may be animated (sharp and browsers read its first frame). The
 * webview decodes all of these (TIFF with its own decoder, decodeTiff in media/webview/lib/scorer.ts), so it needs
 * no subset of its own.
 */
export const DATASET_IMAGE_EXTENSIONS: readonly ImageExtension[] = IMAGE_EXTENSIONS.filter((e) => e !== '.gif');
