/**
 * Runs the defects preset's tile-stride choice (trainer/defect-map/photo-scoring.ts) on a model
 * that was trained before it existed, without retraining (J70): the validation photos of the
 * model's own split (its config: data options, seed, validation fraction) scored at the whole
 * tile and half of it, the image-score rule chosen at each, the stride by the rule, then the
 * threshold and normalStats at the pick — all as `flawscope train --preset defects` does now.
 *
 *   node --import tsx scripts/defect-map-stride.ts MODEL_DIR DATA_DIR [--out NEW_MODEL_DIR]
 *
 * MODEL_DIR is only read. --out writes a copy of the model with the chosen stride, rule,
 * threshold, normalStats and the comparison (a new folder, written to a temp folder and renamed;
 * an existing folder or MODEL_DIR itself is refused). Test photos are not looked at.
 */
import { promises as fs, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { INFO_FILE, type ModelInfo } from '../scorer/model-format';
import { mapPhotoSplit } from '../trainer/data/map-data';
import { selectTrainingBackend } from '../trainer/backend';
import { writeFolderAtomically } from '../trainer/fs-safe';
import { ruleRecord } from '../trainer/threshold';
import { ruleName } from '../trainer/defect-map/evaluate';
import { chooseScoring, deployedThreshold, strideCandidates } from '../trainer/defect-map/photo-scoring';
import { loadGenerator } from '../trainer/defect-map/validate';
import type { DefectsConfig } from '../trainer/defect-map/train-map';

async function loadMap(dir: string, file: string): Promise<tfl.LayersModel> {
  const j = JSON.parse(await fs.readFile(join(dir, file), 'utf8'));
  const w = await fs.readFile(join(dir, j.weightsManifest[0].paths[0]));
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
}

async function main(): Promise<void> {
  const [modelDir, dataDir] = process.argv.slice(2);
  const oi = process.argv.indexOf('--out');
  const out = oi >= 0 ? resolve(process.argv[oi + 1]) : null;
  if (!modelDir || !dataDir) throw new Error('usage: node --import tsx scripts/defect-map-stride.ts MODEL_DIR DATA_DIR [--out NEW_MODEL_DIR]');
  if (out && (out === resolve(modelDir) || existsSync(out))) throw new Error(`--out ${out}: give a new folder (the model folder is only read)`);
  const info = JSON.parse(await fs.readFile(join(modelDir, INFO_FILE), 'utf8')) as ModelInfo & { defectMap?: { file: string }; config: DefectsConfig & { defectMap: Record<string, unknown> } };
  if (!info.defectMap || info.preprocess?.mode !== 'tile') throw new Error(`${modelDir}: not a defect-map model scored in tiles`);
  const cfg = info.config;
  const backend = await selectTrainingBackend(cfg.backend);
  const photos = await mapPhotoSplit({ ...cfg.dataOptions, root: dataDir, normalClass: cfg.normal, size: cfg.size, channels: cfg.channels, seed: cfg.seed, validationFraction: cfg.validationFraction });
  const generator = await loadGenerator(modelDir);
  const net = await loadMap(modelDir, info.defectMap.file);
  const t0 = Date.now();
  const strides = strideCandidates(info.input.width);
  const scoring = await chooseScoring(generator, net, photos.validation, info, {
    strides, source: 'validation', fallbackRule: info.defectMap.imageScore,
  });
  const vp = scoring.validation;
  const deployed = deployedThreshold(vp.scores[ruleName(scoring.rule)], vp.labels, cfg);
  const normals = vp.labels.filter((y) => !y).length;
  console.log(`${modelDir}: ${photos.validation.length} validation photos (${normals} normal, ${photos.validation.length - normals} defect), backend ${backend.name}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`the model as written: stride ${info.preprocess.tileStride}, rule ${ruleName(info.defectMap.imageScore)}, threshold ${info.threshold}`);
  for (const c of scoring.record!.candidates)
    console.log(`  stride ${c.stride}: rule ${scoring.record!.rules[c.stride]}, validation image AUROC ${c.auroc?.toFixed(4)}, below the best by ${c.shortfall?.toFixed(4)}, SE of the paired difference ${c.margin?.toFixed(4)}`);
  console.log(scoring.text);
  console.log(`at the pick: rule ${ruleName(scoring.rule)} (validation image AUROC ${scoring.ruleAuroc[ruleName(scoring.rule)]?.toFixed(4)}), pixel AUROC ${vp.pixelAuroc?.toFixed(4)}, AUPRO ${vp.aupro?.toFixed(4)}, threshold ${deployed.threshold} (${deployed.choice.bound ?? deployed.request.method})${deployed.warning ? `; ${deployed.warning}` : ''}`);
  generator.dispose(); net.dispose();
  if (!out) return;
  // Test figures were measured at the old stride and rule: dropped (flawscope eval re-measures them).
  const kept = Object.fromEntries(Object.entries(info.metrics).map(([k, v]) => [k, k.startsWith('test') ? null : v]));
  const metrics = { ...kept, valPhotoAuroc: scoring.ruleAuroc[ruleName(scoring.rule)], valPhotoPixelAuroc: vp.pixelAuroc, valPhotoAupro: vp.aupro, tileStride: scoring.stride };
  for (const c of scoring.record!.candidates) (metrics as Record<string, unknown>)[`valPhotoAuroc_stride${c.stride}`] = c.auroc;
  (metrics as Record<string, unknown>).tileStrideMargin = Math.max(...scoring.record!.candidates.map((c) => c.margin ?? 0));
  const next = {
    ...info,
    preprocess: { ...info.preprocess, tileStride: scoring.stride! },
    defectMap: { ...info.defectMap, imageScore: scoring.rule },
    threshold: deployed.threshold,
    thresholdRule: ruleRecord(deployed.request, deployed.choice, 'validation'),
    normalStats: deployed.normalStats,
    metrics,
    config: { ...cfg, tileStride: null, defectMap: { ...cfg.defectMap, tileStride: scoring.record, rechosenBy: 'scripts/defect-map-stride.ts', testPhotoAurocByRule: null } },
  };
  await writeFolderAtomically(out, async (tmp) => {
    for (const f of await fs.readdir(modelDir)) if (f !== INFO_FILE) await fs.copyFile(join(modelDir, f), join(tmp, f));
    await fs.writeFile(join(tmp, INFO_FILE), JSON.stringify(next, null, 2));
  });
  console.log(`written: ${out} (test figures set to null: flawscope eval --model OUT --split test measures them at the new stride)`);
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
});
