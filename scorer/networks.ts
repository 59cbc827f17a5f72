/**
 * Builds a model folder's networks with tfjs-layers and checks they are what flawscope.json
 * describes: the generator maps a model-size tile to the same shape; the defect map, when there is
 * one, maps (image, reconstruction, difference) to one probability per pixel (docs/defect-map.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { reconstructWithError, type Reconstructor } from './score';
import { ScorerError, errorText, withTimeout } from './errors';
import type { LoadedArtifacts, ModelFileReader, NetworkArtifacts } from './loader';

export interface BuildOptions {
  /** Time allowed for building each network from its files (default 60 s). */
  loadTimeoutMs?: number;
}

/** The generator and the defect map (null without one), built and shape-checked. Throws ScorerError. */
export async function buildNetworks(folder: LoadedArtifacts, reader: ModelFileReader, opts: BuildOptions): Promise<{ model: LayersModel; defectMap: LayersModel | null }> {
  const { info, artifacts, inputShape } = folder;
  const want = [info.input.height, info.input.width, info.input.channels];
  if (inputShape.length && (inputShape.length !== 3 || inputShape.some((d, i) => d !== want[i])))
    throw new ScorerError('MODEL_MISMATCH', `model.json's input is ${inputShape.join('x')}, flawscope.json says ${want.join('x')}: the files come from different models`);
  const model = await buildNetwork({ artifacts, inputShape }, 'model.json', reader, opts);
  const ins = model.inputs[0]?.shape ?? [], outs = (model.outputs[0]?.shape ?? []) as number[];
  const ok = (s: (number | null)[]) => s.length === 4 && s[1] === want[0] && s[2] === want[1] && s[3] === want[2];
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || !ok(ins) || !ok(outs)) {
    model.dispose();
    throw new ScorerError('MODEL_MISMATCH', `model maps ${JSON.stringify(ins)} → ${JSON.stringify(outs)}; a Flawscope generator must map [null,${want}] to the same shape`);
  }
  let defectMap: LayersModel | null = null;
  if (folder.defectMap && info.defectMap) {
    const file = info.defectMap.file;
    const dIn = [want[0], want[1], 3 * want[2]], dOut = [want[0], want[1], 1];
    const shapeError = (got: string) =>
      new ScorerError('MODEL_MISMATCH', `${file} (the defect map) in ${reader.describe} ${got}; for this ${want.join('x')} generator it must map [null,${dIn}] (image, reconstruction, difference) to [null,${dOut}] (docs/defect-map.md)`);
    const ds = folder.defectMap.inputShape;
    if (ds.length && (ds.length !== 3 || ds.some((d, i) => d !== dIn[i]))) {
      model.dispose();
      throw shapeError(`takes ${ds.join('x')} inputs`);
    }
    try {
      defectMap = await buildNetwork(folder.defectMap, file, reader, opts);
    } catch (e) {
      model.dispose();
      throw e;
    }
    const di = defectMap.inputs[0]?.shape ?? [], dout = (defectMap.outputs[0]?.shape ?? []) as number[];
    const is = (s: (number | null)[], w: number[]) => s.length === 4 && s[1] === w[0] && s[2] === w[1] && s[3] === w[2];
    if (defectMap.inputs.length !== 1 || defectMap.outputs.length !== 1 || !is(di, dIn) || !is(dout, dOut)) {
      model.dispose();
      defectMap.dispose();
      throw shapeError(`maps ${JSON.stringify(di)} → ${JSON.stringify(dout)}`);
    }
  }
  return { model, defectMap };
}

/** One inference on a blank tile, so the backend compiles its kernels before the first real score. */
export async function warmUp(model: LayersModel, defectMap: LayersModel | null, input: { height: number; width: number; channels: number }): Promise<void> {
  const y = tf.tidy(() => {
    const r = reconstructWithError(model as unknown as Reconstructor, tf.zeros([1, input.height, input.width, input.channels]) as tf.Tensor4D, {}, defectMap as unknown as Reconstructor | null);
    return r.prob ?? r.map;
  });
  await y.data();
  y.dispose();
}

/** Builds one network of the folder; a build failure names `file`. */
async function buildNetwork(net: NetworkArtifacts, file: string, reader: ModelFileReader, opts: BuildOptions): Promise<LayersModel> {
  try {
    return await withTimeout(loadLayersModel(tf.io.fromMemory(net.artifacts), { strict: true }), opts.loadTimeoutMs ?? 60000, `building ${file}`);
  } catch (e) {
    if (e instanceof ScorerError) throw e;
    const m = errorText(e);
    const code = /shape|mismatch|expected|weight/i.test(m) ? 'MODEL_MISMATCH' : 'MODEL_CORRUPT';
    throw new ScorerError(code, `${file} in ${reader.describe} could not be built${code === 'MODEL_MISMATCH' ? ' with its weights' : ''}: ${m}`, { cause: e });
  }
}
