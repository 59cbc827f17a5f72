/**
 * The defect-map network (docs/defect-map.md): a small U-Net that reads a tile x, the frozen
 * generator's reconstruction r and |x - r| (channels concatenated in that order, in the
 * generator's normalisation) and outputs a defect probability per pixel.
 *
 * Layers: only what the generator itself uses (conv2d, conv2dTranspose, concatenate, leakyReLU)
 * plus a sigmoid on the last conv, so every scorer that loads the generator loads this too, and
 * the trainer's fast kernels (trainer/kernels: conv2d without dilation, transposed conv) run it.
 * Batch normalisation (optional, `batchNorm`): conv → BN → leaky ReLU while training, FOLDED into
 * the conv kernels and biases with the moving statistics when the model is written (foldBatchNorm
 * in fold-bn.ts). The generator avoids BN (trainer/model.ts) because batch statistics make
 * training-time outputs differ from deployed ones; folding with the moving statistics is the
 * standard answer: the deployed network is exactly the BN network in inference mode, and the
 * written topology is the plain one every scorer already loads.
 *
 * Receptive field: four stride-2 convs (k 4) take a 64 px tile to a 4x4 grid, and a 3x3 conv
 * there sees every cell of it: each output pixel can see the whole tile, so an area-wide change
 * (uneven texture) is judged against the tile, not against a 16 px neighbourhood.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInputShape, type InputShape } from '../model';
import { MapBatchNorm } from './batch-norm';

/** Filters of the four downsampling stages; the decoder mirrors them. */
export const MAP_ENCODER_FILTERS = [16, 32, 48, 64] as const;
/** Filters of the full-resolution stem and of the last decoder stage. */
export const MAP_STEM_FILTERS = 8;
/** Largest weight count we accept: the map is scored in the browser beside the generator. */
export const MAP_MAX_WEIGHTS = 300_000;
export const MAP_INPUTS = ['image', 'reconstruction', 'difference'] as const;
/**
 * 'unet': the map of J62–J74 (a full-resolution stem and last decoder stage, ~21 M multiply-adds
 * a 64 px grey tile). 'lite' (J74): no full-resolution layer — enc1 is the first conv, the
 * decoder is narrower and ends at half resolution, and a fixed bilinear 2x upsampling of the logit
 * gives the full-resolution map (~9.5 M multiply-adds), because scoring cost is what issue 24's
 * speed target is missed by and the two full-resolution stages were 40 % of it.
 */
export const MAP_ARCHITECTURES = ['unet', 'lite'] as const;
export type MapArchitecture = (typeof MAP_ARCHITECTURES)[number];
/** Filters of the lite map's decoder stages (8, 16, 32 px at a 64 px tile), from coarse to fine. */
export const LITE_DECODER_FILTERS = [32, 16, 8] as const;
/** The lite map's fixed upsampler (a 1 → 1 transposed conv with bilinear weights) and its sigmoid. */
export const LITE_UPSAMPLE_LAYER = 'map_upsample';
export const LITE_PROBABILITY_LAYER = 'map_probability';

const LEAK = 0.2;

/** Per-channel statistics of the map's input (x, r, |x - r| channels), from training tiles. */
export interface MapInputStats { mean: number[]; std: number[] }

export interface DefectMapOptions {
  /**
   * Standardise each input channel with these training statistics (a 1x1 conv set to them, the first
   * layer, so every scorer applies it too). Why: |x - r| is an order of magnitude smaller than x
   * and r in the generator's [-1, 1] scale, so without it the channel that carries the anomaly
   * signal barely moves the first layer.
   */
  inputStats?: MapInputStats;
  /**
   * Starting probability of the output (its bias is logit(prior)): the share of defect pixels the
   * map will be trained on (focal-loss practice, Lin et al. 2017), so the first updates are not
   * spent moving every pixel to the prior. Default 0.018 (bias -4).
   */
  prior?: number;
  /**
   * 'he': kaiming init for leaky ReLU (gain² = 2 / (1 + 0.2²)), which keeps the activations' scale
   * through the U-Net's depth; 'torch': PyTorch's default (gain² = 1/3), the generator's, whose
   * activations shrink by about 1/√6 per layer — the old map's, kept for comparison.
   */
  init?: 'he' | 'torch';
  /**
   * Batch normalisation after every hidden conv and transposed conv (not the input
   * standardisation, not the output conv). Why: without it the map's training loss stayed flat
   * for ~4,500 updates on Magnetic tile (J68, J71). Only for training: write foldBatchNorm's plain
   * network.
   */
  batchNorm?: boolean;
  /** Which network (MAP_ARCHITECTURES); default 'unet', what older model folders hold. */
  architecture?: MapArchitecture;
}

/** The BN layer after the conv named `conv`. */
export const bnName = (conv: string) => `${conv}_bn`;
/** Keras' default; small against the activations' variance, large enough for a dead channel. */
export const BN_EPSILON = 1e-3;

function init(seed: number, i: number, kind: 'he' | 'torch') {
  return tfl.initializers.varianceScaling({ scale: kind === 'he' ? 2 / (1 + LEAK * LEAK) : 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: seed * 1000 + 700 + i });
}

export const INPUT_NORM_LAYER = 'map_input_norm';
/** Below this standard deviation (in the generator's [-1, 1] scale, ~1/8 of a grey level) a channel is not scaled. */
const MIN_INPUT_STD = 1e-3;

/** The map for tiles of the generator's input shape (H x W x C → input H x W x 3C, output H x W x 1). */
export function buildDefectMap(shape: InputShape, seed = 0, o: DefectMapOptions = {}): tfl.LayersModel {
  checkInputShape(shape);
  const kind = o.init ?? 'he';
  const cin = 3 * shape.channels;
  const input = tfl.input({ shape: [shape.height, shape.width, cin], name: 'map_input' });
  let i = 0;
  const bn = !!o.batchNorm;
  // With BN the conv's bias is redundant (BN's β replaces it); the folded conv gets one.
  const withBn = (x: tfl.SymbolicTensor, name: string) => (bn ? (new MapBatchNorm({ epsilon: BN_EPSILON, name: bnName(name) }).apply(x) as tfl.SymbolicTensor) : x);
  const conv = (x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string) =>
    withBn(tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: !bn, kernelInitializer: init(seed, i++, kind), biasInitializer: 'zeros', name }).apply(x) as tfl.SymbolicTensor, name);
  const act = (x: tfl.SymbolicTensor, name: string) => tfl.layers.leakyReLU({ alpha: LEAK, name }).apply(x) as tfl.SymbolicTensor;

  let norm: tfl.layers.Layer | null = null;
  let x = input;
  if (o.inputStats) {
    if (o.inputStats.mean.length !== cin || o.inputStats.std.length !== cin) throw new Error(`buildDefectMap: inputStats must have ${cin} channels`);
    // `trainable: false` here does not reach the layer's tf.Variables (see the upsampler below), so this layer starts as the
    // standardisation and trains with the map, as in every measured run; the flag stays because it fixes the weights' order in checkpoints.
    norm = tfl.layers.conv2d({ filters: cin, kernelSize: 1, padding: 'valid', trainable: false, name: INPUT_NORM_LAYER });
    x = norm.apply(x) as tfl.SymbolicTensor;
  }
  const convT = (x: tfl.SymbolicTensor, filters: number, k: number, name: string) =>
    withBn(tfl.layers
      .conv2dTranspose({ filters, kernelSize: 4, strides: 2, padding: 'same', useBias: !bn, kernelInitializer: init(seed, 50 + k, kind), biasInitializer: 'zeros', name })
      .apply(x) as tfl.SymbolicTensor, name);
  const prior = Math.min(0.5, Math.max(1e-4, o.prior ?? 0.018));
  // The output layer starts with small weights (the torch gain): its logit is the prior's, not noise around it.
  const outConv = (x: tfl.SymbolicTensor, activation: 'sigmoid' | 'linear') => tfl.layers
    .conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation, kernelInitializer: init(seed, 99, 'torch'), biasInitializer: tfl.initializers.constant({ value: Math.log(prior / (1 - prior)) }), name: 'map_out' })
    .apply(x) as tfl.SymbolicTensor;
  const encode = (x: tfl.SymbolicTensor, skips: tfl.SymbolicTensor[]) => {
    MAP_ENCODER_FILTERS.forEach((f, k) => {
      x = act(conv(x, f, 4, 2, `map_enc${k + 1}`), `map_enc${k + 1}_act`);
      skips.push(x);
    });
    // Context at the coarsest grid: a 3x3 conv over the 4x4 (at 64 px) cells.
    return act(conv(x, MAP_ENCODER_FILTERS[3], 3, 1, 'map_context'), 'map_context_act');
  };
  let out: tfl.SymbolicTensor;
  let upsampler: tfl.layers.Layer | null = null;
  if ((o.architecture ?? 'unet') === 'unet') {
    x = act(conv(x, MAP_STEM_FILTERS, 3, 1, 'map_stem'), 'map_stem_act');
    const skips: tfl.SymbolicTensor[] = [x];
    x = encode(x, skips);
    const decoder = [MAP_ENCODER_FILTERS[2], MAP_ENCODER_FILTERS[1], MAP_ENCODER_FILTERS[0], MAP_STEM_FILTERS];
    decoder.forEach((f, k) => {
      x = act(convT(x, f, k, `map_dec${k + 1}`), `map_dec${k + 1}_act`);
      x = tfl.layers.concatenate({ name: `map_skip${k + 1}` }).apply([x, skips[3 - k]]) as tfl.SymbolicTensor;
    });
    out = outConv(x, 'sigmoid');
  } else {
    const skips: tfl.SymbolicTensor[] = [];
    x = encode(x, skips);
    LITE_DECODER_FILTERS.forEach((f, k) => {
      x = act(convT(x, f, k, `map_dec${k + 1}`), `map_dec${k + 1}_act`);
      x = tfl.layers.concatenate({ name: `map_skip${k + 1}` }).apply([x, skips[2 - k]]) as tfl.SymbolicTensor;
    });
    // The logit, not the probability, is upsampled: interpolating probabilities would blur a
    // sharp 0/1 edge into a ramp the loss cannot sharpen; a logit ramp stays steep after the sigmoid.
    upsampler = tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', useBias: false, trainable: false, name: LITE_UPSAMPLE_LAYER });
    x = upsampler.apply(outConv(x, 'linear')) as tfl.SymbolicTensor;
    out = tfl.layers.activation({ activation: 'sigmoid', name: LITE_PROBABILITY_LAYER }).apply(x) as tfl.SymbolicTensor;
  }
  const model = tfl.model({ inputs: input, outputs: out, name: bn ? 'flawscope_defect_map_bn' : 'flawscope_defect_map' });
  if (upsampler) {
    upsampler.setWeights([tf.tensor4d(bilinearUpsampleKernel(), [4, 4, 1, 1])]);
    // The setter, not the constructor's `trainable: false`: only the setter marks the layer's
    // tf.Variables untrainable, and opt.minimize without a varList (map-loop.ts) trains every
    // trainable tf.Variable. (The input standardisation above is built the constructor's way and
    // so has trained as a 1x1 conv in every measured run; left as measured.)
    upsampler.trainable = false;
  }
  if (norm && o.inputStats) {
    const { mean, std } = o.inputStats;
    // A channel that barely varies in training (a flat set's reconstruction) is only centred: dividing by ~0 would blow up any deviation at scoring time.
    const scale = std.map((s) => (s > MIN_INPUT_STD ? 1 / s : 1));
    const kernel = new Float32Array(cin * cin);
    for (let c = 0; c < cin; c++) kernel[c * cin + c] = scale[c];
    norm.setWeights([tf.tensor4d(kernel, [1, 1, cin, cin]), tf.tensor1d(mean.map((m, c) => -m * scale[c]))]);
  }
  if (model.countParams() > MAP_MAX_WEIGHTS) throw new Error(`defect map has ${model.countParams()} weights, over ${MAP_MAX_WEIGHTS}`);
  return model;
}

/**
 * The 4x4 kernel of a stride-2 'same' transposed conv that is bilinear 2x upsampling with
 * half-pixel centres (tf.image.resizeBilinear's halfPixelCenters): each output pixel is 3/4 of
 * its nearest input pixel and 1/4 of the next one per axis, the outer product [1, 3, 3, 1] / 4.
 * At a tile's outer ring the missing neighbour is a zero (the conv's padding), so the border logit
 * is 3/4 (corners 9/16) of the clamped bilinear value; the map is trained through it.
 */
export function bilinearUpsampleKernel(): Float32Array {
  const w = [0.25, 0.75, 0.75, 0.25];
  return Float32Array.from({ length: 16 }, (_, i) => w[i >> 2] * w[i & 3]);
}
