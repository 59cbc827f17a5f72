/**
 * A copy of a `--preset defects` model folder whose defect map is the lite network
 * (network.ts 'lite') with RANDOM weights, built with the source map's recorded input
 * standardisation and prior: for measuring the lite map's scoring cost against the folder's own
 * map (`FLAWSCOPE_PHOTO_MODEL=SRC,OUT npm run bench:score -- --only-photo`). Its scores mean
 * nothing; the cost does not depend on the weights.
 *
 *   node --import tsx scripts/defect-map-lite-folder.ts SRC_MODEL_DIR OUT_DIR
 *
 * OUT_DIR must not exist; it is written whole through a temp folder and a rename.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDefectMap } from '../trainer/defect-map/network';
import { MAP_FILE, MAP_WEIGHTS_FILE } from '../trainer/defect-map/train-map';
import { modelArtifacts } from '../trainer/model-folder';
import { writeFolderAtomically } from '../trainer/fs-safe';
import { INFO_FILE, type ModelInfo } from '../scorer/model-format';

async function main() {
  const [src, out] = process.argv.slice(2);
  if (!src || !out) throw new Error('usage: defect-map-lite-folder.ts SRC_MODEL_DIR OUT_DIR');
  await tf.setBackend('cpu');
  const info = JSON.parse(readFileSync(join(src, INFO_FILE), 'utf8')) as ModelInfo & { config: { defectMap?: { init?: { mean: number[]; std: number[]; prior: number }; architecture?: string } } };
  const init = info.config.defectMap?.init;
  if (!info.defectMap || !init) throw new Error(`${src}: not a --preset defects model folder (no defectMap, or no config.defectMap.init)`);
  const net = buildDefectMap(info.input, 0, { inputStats: { mean: init.mean, std: init.std }, prior: init.prior, architecture: 'lite' });
  const art = await modelArtifacts(net);
  net.dispose();
  const json = JSON.parse(art.modelJson);
  json.weightsManifest[0].paths = [MAP_WEIGHTS_FILE];
  await writeFolderAtomically(out, async (tmp) => {
    cpSync(src, tmp, { recursive: true });
    writeFileSync(join(tmp, MAP_FILE), JSON.stringify(json));
    writeFileSync(join(tmp, MAP_WEIGHTS_FILE), art.weights);
    info.config.defectMap = { ...info.config.defectMap, architecture: 'lite' };
    writeFileSync(join(tmp, INFO_FILE), JSON.stringify(info, null, 2));
  });
  console.log(`${out}: ${src} with a lite defect map (random weights)`);
}
void main();
