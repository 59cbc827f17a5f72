/**
 * What `flawscope eval` leads with. A model trained on crops of photos is used on whole photos,
 * so its headline is the whole-photo image AUROC and the whole-photo pixel AUROC; the figures
 * over the test crops (the trainer's own units) follow, labelled patch-level. A whole-image
 * model's images are its units: no patch level.
 *
 * JSON: `wholePhoto` and `patchLevel` name the two levels. The older top-level fields (`auroc`,
 * `aurocMean`, `aurocTopPatch`, `pixelAuroc`, `count`, `normals`, `anomalies`, `sourceAuroc`,
 * `photoAuroc`, `atModelThreshold`) stay for one release with their old meaning — for crop-trained
 * models, patch figures — and are documented as such in README.
 */
import { scoreLabel } from '../../scorer/model-format';
import type { EvalResult, ImageLevelAuroc, PhotoAuroc } from './evaluate';

export interface WholePhotoLevel {
  /** Each test photo scored whole, as `flawscope score` does. */
  imageAuroc: number | null;
  /** Every pixel of every test photo against the masks; null without masks. */
  pixelAuroc: number | null;
  /** Per-region overlap over the same pixels (AUPRO to FPR 0.3); null without masks. */
  pixelAupro: number | null;
  photos: number;
  normals: number;
  anomalies: number;
  tileStride?: number;
  byType?: PhotoAuroc['byType'];
}

export interface PatchLevel {
  /** AUROC over the test crops, by the model's own score. */
  imageAuroc: number | null;
  aurocMean: number | null;
  aurocTopPatch: number | null;
  /** Pixel AUROC over the test crops only (each crop's error map against its piece of the mask). */
  pixelAuroc: number | null;
  patches: number;
  normals: number;
  anomalies: number;
  /** Source photos scored by their highest crop (not as a user scores a photo: see wholePhoto). */
  sourceAuroc: ImageLevelAuroc | null;
  atModelThreshold: EvalResult['atModelThreshold'];
}

export interface EvalLevels {
  wholePhoto: WholePhotoLevel | null;
  patchLevel: PatchLevel | null;
}

export function evalLevels(r: EvalResult): EvalLevels {
  const photo = r.photoAuroc;
  // Items are crops exactly when the evaluation grouped them by source photo.
  const crops = r.sourceAuroc !== null;
  return {
    wholePhoto: photo ? { imageAuroc: photo.auroc, pixelAuroc: photo.pixelAuroc ?? null, pixelAupro: photo.pixelAupro ?? null, photos: photo.images, normals: photo.normals, anomalies: photo.anomalies, tileStride: photo.tileStride, byType: photo.byType } : null,
    patchLevel: crops
      ? { imageAuroc: r.auroc, aurocMean: r.aurocMean, aurocTopPatch: r.aurocTopPatch, pixelAuroc: r.pixelAuroc, patches: r.count, normals: r.normals, anomalies: r.anomalies, sourceAuroc: r.sourceAuroc, atModelThreshold: r.atModelThreshold }
      : null,
  };
}

const p = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(4));

/** eval's text output: whole photo first for crop-trained models, every patch figure labelled. */
export function evalText(r: EvalResult): string[] {
  const { wholePhoto, patchLevel } = evalLevels(r);
  const thr = r.atModelThreshold;
  const atThreshold = `at the model threshold ${thr.threshold.toPrecision(5)}: precision ${p(thr.precision)} recall ${p(thr.recall)} F1 ${p(thr.f1)}`;
  const perClass = r.perClass.filter((c) => c.anomaly);
  if (!patchLevel) {
    return [
      `image AUROC ${p(r.auroc)} (${scoreLabel(r)}; mean-L1 ${p(r.aurocMean)}, top-patch ${p(r.aurocTopPatch)})  pixel AUROC ${r.pixelAuroc === null ? 'no masks' : p(r.pixelAuroc)}`,
      `${r.count} images (${r.normals} normal, ${r.anomalies} anomalous); ${atThreshold}`,
      ...perClass.map((c) => `  class ${c.className}: AUROC ${p(c.auroc)} (${c.count} images)`),
    ];
  }
  const lines: string[] = [];
  if (wholePhoto) {
    lines.push(`whole-photo image AUROC ${p(wholePhoto.imageAuroc)}  whole-photo pixel AUROC ${wholePhoto.pixelAuroc === null ? 'no masks' : `${p(wholePhoto.pixelAuroc)}  AUPRO ${p(wholePhoto.pixelAupro)}`}`);
    lines.push(`  ${wholePhoto.photos} photos (${wholePhoto.normals} normal, ${wholePhoto.anomalies} defect), each tiled and scored as \`flawscope score\` does, tiles ${wholePhoto.tileStride} px apart`);
    for (const t of wholePhoto.byType ?? []) lines.push(`  ${t.className}: whole-photo AUROC ${p(t.auroc)} (${t.photos} photos against the normal ones)`);
  } else {
    lines.push('whole-photo AUROC: not measured (the photos could not be read whole)');
  }
  lines.push(`patch-level (the ${patchLevel.patches} test crops: ${patchLevel.normals} normal, ${patchLevel.anomalies} defect): patch AUROC ${p(patchLevel.imageAuroc)} (${scoreLabel(r)}; mean-L1 ${p(patchLevel.aurocMean)}, top-patch ${p(patchLevel.aurocTopPatch)})  patch pixel AUROC ${patchLevel.pixelAuroc === null ? 'no masks' : p(patchLevel.pixelAuroc)}`);
  lines.push(`  patch-level, ${atThreshold}`);
  if (patchLevel.sourceAuroc) lines.push(`  patch-level, source-photo AUROC ${p(patchLevel.sourceAuroc.auroc)} (each photo by its highest crop; ${patchLevel.sourceAuroc.normals} normal, ${patchLevel.sourceAuroc.anomalies} defect photos)`);
  for (const c of perClass) lines.push(`  patch-level, class ${c.className}: patch AUROC ${p(c.auroc)} (${c.count} crops)`);
  return lines;
}
