/**
 * The defect-map network (docs/defect-map.md): a small U-Net that reads a tile x, the frozen
 * generator's reconstruction r and |x - r| (channels concatenated in that order, in the
 * generator's normalisation) and outputs a defect probability per pixel.
 *
 * Layers: only what the generator itself uses (conv2d, conv2dTranspose, concatenate, leakyReLU)
 * plus a sigmoid on the last conv, so every scorer that loads the generator loads this too, and
 * the trainer's fast kernels (trainer/kernels: conv2d without dilation, transposed conv) run it.
 * No batch normalisation, for the generator's reason (trainer/model.ts): batch statistics would
 * make training-time maps differ from deployed ones.
 *
 * Receptive field: four stride-2 convs (k 4) take a 64 px tile to a 4x4 grid, and a 3x3 conv
 * there sees every cell of it: each output pixel can see the whole tile, so an area-wide change
 * (uneven texture) is judged against the tile, not against a 16 px neighbourhood.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInputShape, type InputShape } from '../model';

/** Filters of the four downsampling stages; the decoder mirrors them. */
export const MAP_ENCODER_FILTERS = [16, 32, 48, 64] as const;
/** Filters of the full-resolution stem and of the last decoder stage. */
export const MAP_STEM_FILTERS = 8;
/** Largest weight count we accept: the map is scored in the browser beside the generator. */
export const MAP_MAX_WEIGHTS = 300_000;
export const MAP_INPUTS = ['image', 'reconstruction', 'difference'] as const;

function init(seed: number, i: number) {
  // As the generator: PyTorch-default kaiming-uniform kernels, seeded per layer.
  return tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: seed * 1000 + 700 + i });
}

/** The map for tiles of the generator's input shape (H x W x C → input H x W x 3C, output H x W x 1). */
export function buildDefectMap(shape: InputShape, seed = 0): tfl.LayersModel {
  checkInputShape(shape);
  const cin = 3 * shape.channels;
  const input = tfl.input({ shape: [shape.height, shape.width, cin], name: 'map_input' });
  let i = 0;
  const conv = (x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string) =>
    tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', kernelInitializer: init(seed, i++), biasInitializer: 'zeros', name }).apply(x) as tfl.SymbolicTensor;
  const act = (x: tfl.SymbolicTensor, name: string) => tfl.layers.leakyReLU({ alpha: 0.2, name }).apply(x) as tfl.SymbolicTensor;

  let x = act(conv(input, MAP_STEM_FILTERS, 3, 1, 'map_stem'), 'map_stem_act');
  const skips: tfl.SymbolicTensor[] = [x];
  MAP_ENCODER_FILTERS.forEach((f, k) => {
    x = act(conv(x, f, 4, 2, `map_enc${k + 1}`), `map_enc${k + 1}_act`);
    skips.push(x);
  });
  // Context at the coarsest grid: a 3x3 conv over the 4x4 (at 64 px) cells.
  x = act(conv(x, MAP_ENCODER_FILTERS[3], 3, 1, 'map_context'), 'map_context_act');
  const decoder = [MAP_ENCODER_FILTERS[2], MAP_ENCODER_FILTERS[1], MAP_ENCODER_FILTERS[0], MAP_STEM_FILTERS];
  decoder.forEach((f, k) => {
    x = tfl.layers
      .conv2dTranspose({ filters: f, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init(seed, 50 + k), biasInitializer: 'zeros', name: `map_dec${k + 1}` })
      .apply(x) as tfl.SymbolicTensor;
    x = act(x, `map_dec${k + 1}_act`);
    x = tfl.layers.concatenate({ name: `map_skip${k + 1}` }).apply([x, skips[3 - k]]) as tfl.SymbolicTensor;
  });
  // A negative starting bias: the map starts near the rare class's prior (sigmoid(-4) ≈ 0.018),
  // so the first updates are not spent unlearning p = 0.5 on every normal pixel.
  const out = tfl.layers
    .conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', kernelInitializer: init(seed, 99), biasInitializer: tfl.initializers.constant({ value: -4 }), name: 'map_out' })
    .apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'flawscope_defect_map' });
  if (model.countParams() > MAP_MAX_WEIGHTS) throw new Error(`defect map has ${model.countParams()} weights, over ${MAP_MAX_WEIGHTS}`);
  return model;
}
