/**
 * Writes the model folder the scorer and the extension read (contract: scorer/model-format.ts):
 * model.json + weights.bin (tf.io LayersModel, generator only) + flawscope.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { INFO_FILE, MODEL_FILE, encodeModelInfo, type ModelInfo } from '../scorer/model-format';
import { writeFolderAtomically } from './fs-safe';

export const WEIGHTS_FILE = 'weights.bin';

/** Serialises a LayersModel into the two tf.io files, in memory. */
export async function modelArtifacts(model: tfl.LayersModel): Promise<{ modelJson: string; weights: Uint8Array }> {
  let out: { modelJson: string; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData;
      const buf = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(tf.io.concatenateArrayBuffers(data as ArrayBuffer[]));
      const json = {
        format: 'layers-model',
        generatedBy: `Flawscope (TensorFlow.js ${tf.version_core})`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs }],
      };
      out = { modelJson: JSON.stringify(json), weights: buf };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}

export async function writeModelFolder(dir: string, generator: tfl.LayersModel, info: ModelInfo, opts: { force?: boolean } = {}): Promise<void> {
  const { modelJson, weights } = await modelArtifacts(generator);
  await writeFolderAtomically(
    dir,
    async (tmp) => {
      await fs.writeFile(join(tmp, MODEL_FILE), modelJson);
      await fs.writeFile(join(tmp, WEIGHTS_FILE), weights);
      await fs.writeFile(join(tmp, INFO_FILE), encodeModelInfo(info, `${INFO_FILE} for ${dir}`));
    },
    opts,
  );
}
