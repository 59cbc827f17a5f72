/**
 * The bad-input corpus (test/fixtures/bad, made by scripts/make-bad-corpus.mjs) through
 * every tool: `flawscope datasets inspect`, `flawscope train`, `flawscope score` (the built CLI,
 * dist/cli.js) and the scorer module (scorer/node + Scorer). The table CASES below is the contract:
 * one row per case, the expected outcome per tool. For every run: no signal/abort, bounded in time,
 * exit 0 (documented handling) or 2 (bad input, a message naming the file, no stack trace), and no
 * partial output (train: nothing in the output's folder; score: no half-written heatmap).
 *
 * How a case is fed to each tool:
 *  - image cases: inspect and train see a small dataset (good/ = 6 normal images + the case file,
 *    defect/ = 2 images); score and the module get the file itself, scored with models/ok.
 *    Images that must be accepted are trained together in ONE combined training (per-file check:
 *    none of them skipped, every one counted) to keep the run short.
 *  - dataset cases: inspect and train get the folder; score and the module (collectImages + score)
 *    get the folder as an IMAGE_OR_FOLDER argument.
 *  - model cases: score --model CASE on a good image; the module's loadScorerFromDir(CASE).
 *  - checkpoint cases: train --resume CASE (copied to a temp folder as OUT.checkpoint, its `out` pointed at OUT).
 *  - made at run time (git cannot hold them well): FIFO and /dev/zero link named .png, symlink loops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { CLI, ROOT } from '../helpers/cli';
import { collectImages, decodeImageFile, loadScorerFromDir } from '../../scorer/node';
import { ScorerError, type ScorerErrorCode } from '../../scorer/errors';
import type { Scorer } from '../../scorer/scorer';
import { validateModelInfo } from '../../scorer/model-format';

const BAD = join(ROOT, 'test/fixtures/bad');
const OK_MODEL = join(BAD, 'models/ok');
const GOOD_IMAGE = join(BAD, 'datasets/symlink-loop/good/0.png');
/** Every CLI run is killed after this long; a kill fails the case (a hang). */
const CLI_TIMEOUT_MS = 60_000;
const MODULE_TIMEOUT_MS = 30_000;
/** CLI processes run at once (2 cores shared with others: keep it small). */
const CONCURRENCY = Number(process.env.FLAWSCOPE_TEST_CONCURRENCY ?? 3);
/** FLAWSCOPE_CORPUS_KINDS=checkpoint,model runs only those kinds of case (a quick check of one area). */
const KINDS = process.env.FLAWSCOPE_CORPUS_KINDS?.split(',');

// ---------------------------------------------------------------- expected outcomes
/** exit 0 with a documented handling; `listed` = the case's file appears in the report's skipped list. */
type Ok = { ok: string; listed?: boolean };
/** exit 2 and a message matching `msg` (it names the file or the flag). */
type Refused = { exit2: RegExp };
type ModuleOk = { ok: string; size?: [number, number] };
type ModuleErr = { code: ScorerErrorCode; msg?: RegExp };
type NA = 'n/a';

interface Case {
  id: string;
  kind: 'image' | 'dataset' | 'model' | 'checkpoint';
  /** Path under test/fixtures/bad, or made at run time by `make`. */
  path?: string;
  make?: (dir: string) => string;
  inspect: Ok | Refused | NA;
  train: Ok | Refused | NA;
  score: Ok | Refused | NA;
  module: ModuleOk | ModuleErr | NA;
  /** train --normal for dataset cases. */
  normal?: string;
}

const ACCEPTED = (what: string): Ok => ({ ok: what });
const PROBE_OK = { ok: 'header is readable: counted, not decoded (inspect reads headers only)' };

export const CASES: Case[] = [
  // ---- images
  { id: 'zero-byte file', kind: 'image', path: 'images/zero-bytes.png', inspect: { ok: 'listed under skipped', listed: true }, train: { exit2: /zero-bytes\.png: (not a readable image|empty file)/ }, score: { exit2: /zero-bytes\.png: (not a readable image|empty file)/ }, module: { code: 'IMAGE_INVALID', msg: /zero-bytes\.png/ } },
  { id: 'truncated PNG', kind: 'image', path: 'images/truncated.png', inspect: PROBE_OK, train: { exit2: /truncated\.png: cannot decode/ }, score: { exit2: /truncated\.png: cannot decode/ }, module: { code: 'IMAGE_INVALID', msg: /truncated\.png/ } },
  { id: 'truncated JPEG', kind: 'image', path: 'images/truncated.jpg', inspect: PROBE_OK, train: { exit2: /truncated\.jpg: cannot decode/ }, score: { exit2: /truncated\.jpg: cannot decode.*premature end/ }, module: { code: 'IMAGE_INVALID', msg: /truncated\.jpg/ } },
  { id: 'PNG header claiming 100000x100000 (decompression bomb)', kind: 'image', path: 'images/bomb-100000x100000.png', inspect: { ok: 'listed under skipped: over the pixel limit (read from the header; nothing is decoded)', listed: true }, train: { exit2: /bomb-100000x100000\.png: 100000x100000 pixels exceeds the limit/ }, score: { exit2: /bomb-100000x100000\.png is 100000x100000 pixels, over the limit/ }, module: { code: 'IMAGE_TOO_LARGE', msg: /100000x100000/ } },
  { id: 'text file named .png', kind: 'image', path: 'images/text-file.png', inspect: { ok: 'listed under skipped', listed: true }, train: { exit2: /text-file\.png: not a readable image/ }, score: { exit2: /text-file\.png: not a readable image/ }, module: { code: 'IMAGE_INVALID' } },
  { id: 'corrupt IDAT (valid chunk CRCs)', kind: 'image', path: 'images/corrupt-idat.png', inspect: PROBE_OK, train: { exit2: /corrupt-idat\.png: cannot decode/ }, score: { exit2: /corrupt-idat\.png: cannot decode/ }, module: { code: 'IMAGE_INVALID' } },
  { id: 'PNG with width 0', kind: 'image', path: 'images/zero-width.png', inspect: { ok: 'listed under skipped', listed: true }, train: { exit2: /zero-width\.png: not a readable image/ }, score: { exit2: /zero-width\.png: not a readable image/ }, module: { code: 'IMAGE_INVALID' } },
  { id: 'BMP (in the extension list, no decoder in sharp)', kind: 'image', path: 'images/plain.bmp', inspect: { ok: 'listed under skipped', listed: true }, train: { exit2: /plain\.bmp: not a readable image/ }, score: { exit2: /plain\.bmp: not a readable image/ }, module: { code: 'IMAGE_INVALID' } },
  { id: '16-bit greyscale PNG', kind: 'image', path: 'images/grey-16bit.png', inspect: { ok: 'counted as grey, high bit depth' }, train: ACCEPTED('converted to 8 bits'), score: ACCEPTED('converted to 8 bits'), module: { ok: 'scored', size: [24, 24] } },
  { id: '16-bit RGB PNG', kind: 'image', path: 'images/rgb-16bit.png', inspect: { ok: 'counted as colour, high bit depth' }, train: ACCEPTED('converted to 8 bits'), score: ACCEPTED('converted to 8 bits'), module: { ok: 'scored', size: [24, 24] } },
  { id: 'CMYK JPEG', kind: 'image', path: 'images/cmyk.jpg', inspect: { ok: 'counted as colour' }, train: ACCEPTED('converted to sRGB'), score: ACCEPTED('converted to sRGB'), module: { ok: 'scored', size: [24, 24] } },
  { id: 'animated GIF', kind: 'image', path: 'images/animated.gif', inspect: { ok: 'not a training image type: counted as ignored non-image file' }, train: ACCEPTED('ignored (GIF is not a training image type); trains on the rest'), score: ACCEPTED('first frame scored'), module: { ok: 'first frame scored', size: [24, 24] } },
  { id: 'EXIF-rotated JPEG (orientation 6, stored 32x16)', kind: 'image', path: 'images/exif-rotated.jpg', inspect: { ok: 'size reported after rotation (16x32)' }, train: ACCEPTED('EXIF rotation applied'), score: ACCEPTED('EXIF rotation applied: 16x32 heatmap'), module: { ok: 'EXIF rotation applied', size: [16, 32] } },
  { id: 'greyscale+alpha PNG', kind: 'image', path: 'images/grey-alpha.png', inspect: { ok: 'counted as grey with alpha' }, train: ACCEPTED('alpha flattened onto black'), score: ACCEPTED('alpha flattened onto black'), module: { ok: 'scored', size: [24, 24] } },
  { id: 'RGBA PNG', kind: 'image', path: 'images/rgba.png', inspect: { ok: 'counted as colour with alpha' }, train: ACCEPTED('alpha flattened onto black'), score: ACCEPTED('alpha flattened onto black'), module: { ok: 'scored', size: [24, 24] } },
  { id: 'palette PNG', kind: 'image', path: 'images/palette.png', inspect: { ok: 'counted' }, train: ACCEPTED('expanded'), score: ACCEPTED('expanded'), module: { ok: 'scored', size: [24, 24] } },
  { id: '1x1 image', kind: 'image', path: 'images/one-pixel.png', inspect: { ok: 'counted' }, train: ACCEPTED('resized up'), score: ACCEPTED('enlarged to the model size, map resampled to 1x1'), module: { ok: 'scored', size: [1, 1] } },
  { id: '1x2000 strip', kind: 'image', path: 'images/tall-strip-1x2000.png', inspect: { ok: 'counted' }, train: ACCEPTED('stretched to the model size'), score: ACCEPTED('enlarged and tiled (2000 tiles), bounded'), module: { ok: 'scored', size: [1, 2000] } },
  { id: 'JPEG named .png', kind: 'image', path: 'images/jpeg-named.png', inspect: { ok: 'decoded by content' }, train: ACCEPTED('decoded by content'), score: ACCEPTED('decoded by content'), module: { ok: 'scored', size: [24, 24] } },
  { id: 'SVG named .png', kind: 'image', path: 'images/svg-named.png', inspect: { ok: 'decoded by content (SVG rendered by libvips)' }, train: ACCEPTED('decoded by content (SVG rendered)'), score: ACCEPTED('decoded by content (SVG rendered)'), module: { ok: 'scored', size: [16, 16] } },
  { id: 'spaces and non-ASCII in the file name', kind: 'image', path: 'images/ünïcødé name ✓.png', inspect: { ok: 'counted' }, train: ACCEPTED('trained'), score: ACCEPTED('scored; heatmap name keeps the characters'), module: { ok: 'scored', size: [24, 24] } },
  {
    id: 'FIFO named .png', kind: 'image', make: (d) => { const p = join(d, 'pipe.png'); execFileSync('mkfifo', [p]); return p; },
    inspect: { ok: 'not a regular file: ignored' }, train: ACCEPTED('not a regular file: ignored'), score: { exit2: /pipe\.png: not a regular file \(a named pipe\)/ }, module: { code: 'IMAGE_INVALID', msg: /named pipe/ },
  },
  {
    id: 'symlink to /dev/zero named .png', kind: 'image', make: (d) => { const p = join(d, 'zero.png'); symlinkSync('/dev/zero', p); return p; },
    inspect: { ok: 'not a regular file: ignored' }, train: ACCEPTED('not a regular file: ignored'), score: { exit2: /zero\.png: not a regular file/ }, module: { code: 'IMAGE_INVALID' },
  },
  // ---- datasets
  { id: 'IDX with a wrong magic number', kind: 'dataset', path: 'datasets/idx-wrong-magic', inspect: { exit2: /train-images-idx3-ubyte: wrong magic number 0x12340803/ }, train: { exit2: /wrong magic number/ }, score: { exit2: /no image files/ }, module: { code: 'IMAGE_INVALID', msg: /no image files/ } },
  { id: 'IDX cut short', kind: 'dataset', path: 'datasets/idx-cut-short', inspect: { exit2: /train-images-idx3-ubyte: truncated: the header promises 8x8x8/ }, train: { exit2: /truncated/ }, score: { exit2: /no image files/ }, module: { code: 'IMAGE_INVALID', msg: /no image files/ } },
  { id: 'gzipped IDX cut short', kind: 'dataset', path: 'datasets/idx-gzip-cut', inspect: { exit2: /train-images-idx3-ubyte\.gz: gzip data is corrupt or cut short/ }, train: { exit2: /gzip data is corrupt/ }, score: { exit2: /no image files/ }, module: { code: 'IMAGE_INVALID', msg: /no image files/ } },
  { id: 'CIFAR file cut mid-record', kind: 'dataset', path: 'datasets/cifar-cut-mid-record', inspect: { exit2: /data_batch_1\.bin: 7146 bytes is not a whole number of 3073-byte CIFAR-10 records/ }, train: { exit2: /not a whole number of 3073-byte/ }, score: { exit2: /no image files/ }, module: { code: 'IMAGE_INVALID', msg: /no image files/ } },
  { id: 'CIFAR record with label 200', kind: 'dataset', path: 'datasets/cifar-bad-label', inspect: { exit2: /record 1 has label 200/ }, train: { exit2: /record 1 has label 200/ }, score: { exit2: /no image files/ }, module: { code: 'IMAGE_INVALID', msg: /no image files/ } },
  { id: 'empty class folder', kind: 'dataset', path: 'datasets/empty-class', inspect: { ok: 'class listed with 0 images and a warning' }, train: ACCEPTED('warns (class ignored, no anomalies) and trains with the normal-group losses'), score: ACCEPTED('scores the 6 images'), module: { ok: 'collects the 6 images' } },
  { id: 'images outside any class folder', kind: 'dataset', path: 'datasets/no-class-folders', inspect: { exit2: /has no class sub-folders/ }, train: { exit2: /has no class sub-folders/ }, score: ACCEPTED('scores the 3 images'), module: { ok: 'collects the 3 images' } },
  { id: 'class folders with no images', kind: 'dataset', path: 'datasets/only-non-images', inspect: { ok: 'classes listed with 0 images, warnings' }, train: { exit2: /No normal images: class .{1,2}good/ }, score: { exit2: /no image files/ }, module: { code: 'IMAGE_INVALID', msg: /no image files/ } },
  { id: 'every anomaly image unreadable', kind: 'dataset', path: 'datasets/all-anomalies-unreadable', inspect: { ok: 'the 3 files listed under skipped' }, train: { exit2: /3 of 9 images .* are unreadable.*broken-0\.png/s }, score: { ok: '6 scored, 3 reported failed (exit 1 is "some images failed")' }, module: { ok: 'collects 9; the 3 broken ones fail with IMAGE_INVALID' } },
  {
    id: 'dataset with symlink loops (class/loop -> .., class/self -> .)', kind: 'dataset',
    make: (d) => { const p = join(d, 'loopy'); cpSync(join(BAD, 'datasets/symlink-loop'), p, { recursive: true }); symlinkSync('..', join(p, 'good/loop')); symlinkSync('.', join(p, 'defect/self')); return p; },
    inspect: { ok: 'both loops listed under skipped; 6 good + 2 defect counted' }, train: ACCEPTED('loops skipped; trains on 6 + 2'), score: ACCEPTED('each folder walked once'), module: { ok: 'collects the 8 images once' },
  },
  { id: 'paths with spaces and non-ASCII names', kind: 'dataset', path: 'datasets/spaces and ünïcødé', normal: 'gööd images ✓', inspect: { ok: 'classes listed by their names' }, train: ACCEPTED('trains with --normal "gööd images ✓"'), score: ACCEPTED('scores the 10 images'), module: { ok: 'collects the 10 images' } },
  // ---- models (score --model CASE GOOD_IMAGE; module: loadScorerFromDir)
  { id: 'model.json that is not JSON', kind: 'model', path: 'models/model-json-not-json', inspect: 'n/a', train: 'n/a', score: { exit2: /model\.json in .* is not valid JSON/ }, module: { code: 'MODEL_CORRUPT' } },
  { id: 'model.json empty', kind: 'model', path: 'models/model-json-empty', inspect: 'n/a', train: 'n/a', score: { exit2: /model\.json .* is not valid JSON \(0 bytes\)/ }, module: { code: 'MODEL_CORRUPT' } },
  { id: 'model.json without a topology', kind: 'model', path: 'models/model-json-no-topology', inspect: 'n/a', train: 'n/a', score: { exit2: /has no "modelTopology"/ }, module: { code: 'MODEL_CORRUPT' } },
  { id: 'model.json with a missing layer', kind: 'model', path: 'models/model-missing-layer', inspect: 'n/a', train: 'n/a', score: { exit2: /layer "out" takes its input from layer "c1", which is missing/ }, module: { code: 'MODEL_CORRUPT', msg: /missing/ } },
  { id: 'weights file cut short', kind: 'model', path: 'models/weights-cut-short', inspect: 'n/a', train: 'n/a', score: { exit2: /holds 10 bytes, model\.json describes 28 bytes \(cut short/ }, module: { code: 'WEIGHTS_SIZE' } },
  { id: 'weights file missing', kind: 'model', path: 'models/weights-missing', inspect: 'n/a', train: 'n/a', score: { exit2: /weight file weights\.bin .* not found/ }, module: { code: 'WEIGHTS_MISSING' } },
  { id: 'weights of the wrong shape', kind: 'model', path: 'models/weights-wrong-shape', inspect: 'n/a', train: 'n/a', score: { exit2: /could not be built with its weights: Shape mismatch/ }, module: { code: 'MODEL_MISMATCH' } },
  { id: 'weights file too long (from another model)', kind: 'model', path: 'models/weights-too-long', inspect: 'n/a', train: 'n/a', score: { exit2: /too long/ }, module: { code: 'WEIGHTS_SIZE' } },
  { id: 'weights path escaping the folder', kind: 'model', path: 'models/weights-path-traversal', inspect: 'n/a', train: 'n/a', score: { exit2: /must be a plain file name beside model\.json/ }, module: { code: 'MODEL_CORRUPT' } },
  { id: 'flawscope.json with a future format version', kind: 'model', path: 'models/info-future-version', inspect: 'n/a', train: 'n/a', score: { exit2: /format version 99 is newer than this Flawscope understands/ }, module: { code: 'INFO_INVALID' } },
  { id: 'flawscope.json not JSON', kind: 'model', path: 'models/info-not-json', inspect: 'n/a', train: 'n/a', score: { exit2: /flawscope\.json .* is not valid JSON/ }, module: { code: 'INFO_INVALID' } },
  { id: 'flawscope.json missing', kind: 'model', path: 'models/info-missing', inspect: 'n/a', train: 'n/a', score: { exit2: /flawscope\.json not found/ }, module: { code: 'MODEL_MISSING' } },
  { id: 'flawscope.json input size differs from model.json', kind: 'model', path: 'models/info-input-mismatch', inspect: 'n/a', train: 'n/a', score: { exit2: /model\.json's input is 16x16x1, flawscope\.json says 32x32x1/ }, module: { code: 'MODEL_MISMATCH' } },
  { id: 'flawscope.json threshold not a number', kind: 'model', path: 'models/info-bad-threshold', inspect: 'n/a', train: 'n/a', score: { exit2: /"threshold" must be a finite number/ }, module: { code: 'INFO_INVALID' } },
  // every flawscope.json field range-checked; manifests bounded and kept inside the folder; work bounded before it starts
  { id: 'flawscope.json score.patch given as strings', kind: 'model', path: 'models/info-patch-strings', inspect: 'n/a', train: 'n/a', score: { exit2: /info-patch-strings: "score\.patch\.size" must be an integer from 1 to the model size \(16\), got "2"/ }, module: { code: 'INFO_INVALID', msg: /flawscope\.json in .*"score\.patch\.size"/ } },
  { id: 'flawscope.json score.patch size a fraction', kind: 'model', path: 'models/info-patch-fraction', inspect: 'n/a', train: 'n/a', score: { exit2: /"score\.patch\.size" must be an integer .* got 2\.5/ }, module: { code: 'INFO_INVALID', msg: /"score\.patch\.size"/ } },
  { id: 'flawscope.json normalization scale 0', kind: 'model', path: 'models/info-normalization-zero', inspect: 'n/a', train: 'n/a', score: { exit2: /"normalization\.scale" must be a number with 1e-4 ≤ \|scale\| ≤ 10 .*got 0/ }, module: { code: 'INFO_INVALID', msg: /"normalization\.scale"/ } },
  { id: 'flawscope.json normalization scale 1e308', kind: 'model', path: 'models/info-normalization-huge', inspect: 'n/a', train: 'n/a', score: { exit2: /"normalization\.scale" must be .*got 1e\+308/ }, module: { code: 'INFO_INVALID', msg: /"normalization\.scale"/ } },
  { id: 'flawscope.json input 8192x8192', kind: 'model', path: 'models/info-input-huge', inspect: 'n/a', train: 'n/a', score: { exit2: /"input\.height"\/"input\.width" must be integers from 16 to 1024, got 8192x8192/ }, module: { code: 'INFO_INVALID', msg: /from 16 to 1024/ } },
  { id: 'flawscope.json preprocess.scale 64 with tileStride 1 (a million tiles for 16x16)', kind: 'model', path: 'models/info-scale-64-stride-1', inspect: 'n/a', train: 'n/a', score: { exit2: /1,018,081 tiles .* over the limit of 150 million \(limits\.maxTilePixels\): the model's tile stride \(\\?"preprocess\.tileStride\\?" in flawscope\.json; --tile-stride overrides it\) is 1 px; a stride of 2 px or more fits/ }, module: { ok: 'loads: the model is valid; scoring is refused by the work limit (the score column)' } },
  { id: 'weights that are all NaN (a NaN score)', kind: 'model', path: 'models/weights-nan', inspect: 'n/a', train: 'n/a', score: { exit2: /0\.png","code":"MODEL_CORRUPT","message":"the model gave a non-finite score \(mean NaN/ }, module: { ok: 'loads: the NaN shows only in the score, refused there (the score column)' } },
  { id: 'weights path %2e%2e/%2e%2e/… (encoded traversal)', kind: 'model', path: 'models/weights-path-encoded', inspect: 'n/a', train: 'n/a', score: { exit2: /weight path "%2e%2e\/%2e%2e\/%2e%2e\/etc\/passwd" leaves the model folder/ }, module: { code: 'MODEL_CORRUPT', msg: /leaves the model folder/ } },
  { id: 'weights path \\\\host\\share\\w.bin (UNC path)', kind: 'model', path: 'models/weights-path-unc', inspect: 'n/a', train: 'n/a', score: { exit2: /weight path .*host.*share.*w\.bin" holds a backslash/ }, module: { code: 'MODEL_CORRUPT', msg: /holds a backslash/ } },
  { id: 'weightsManifest of 100 groups', kind: 'model', path: 'models/manifest-many-groups', inspect: 'n/a', train: 'n/a', score: { exit2: /"weightsManifest" has 100 groups, over the limit of 64/ }, module: { code: 'MODEL_CORRUPT', msg: /over the limit of 64/ } },
  // ---- checkpoints (train --resume)
  { id: 'checkpoint state.json not JSON', kind: 'checkpoint', path: 'checkpoints/state-not-json', inspect: 'n/a', train: { exit2: /--resume .*: checkpoint files are corrupt/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint tensors.bin cut short', kind: 'checkpoint', path: 'checkpoints/tensors-cut-short', inspect: 'n/a', train: { exit2: /tensors\.bin is cut short/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint from a future version', kind: 'checkpoint', path: 'checkpoints/future-version', inspect: 'n/a', train: { exit2: /checkpoint version 99 is not supported/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint without tensors.bin', kind: 'checkpoint', path: 'checkpoints/missing-tensors-bin', inspect: 'n/a', train: { exit2: /not a Flawscope checkpoint \(missing tensors\.bin\)/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint of another model', kind: 'checkpoint', path: 'checkpoints/wrong-model', inspect: 'n/a', train: { exit2: /the checkpoint does not fit this model/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint whose data folder is gone', kind: 'checkpoint', path: 'checkpoints/data-gone', inspect: 'n/a', train: { exit2: /Data folder test\/fixtures\/no-such-dataset does not exist/ }, score: 'n/a', module: 'n/a' },
  // damaged checkpoint files: refused naming the file and the field, exit 2, nothing written
  { id: 'checkpoint tensors.json is {} (not a list)', kind: 'checkpoint', path: 'checkpoints/tensors-json-object', inspect: 'n/a', train: { exit2: /tensors\.json: expected an array of tensor entries/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint tensor length does not match its shape', kind: 'checkpoint', path: 'checkpoints/tensor-wrong-length', inspect: 'n/a', train: { exit2: /tensors\.json entry 0 \("g\/0"\) field "length": 12 bytes, but shape \[2, 2\] of float32 needs 16/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint tensor with a negative offset', kind: 'checkpoint', path: 'checkpoints/tensor-negative-offset', inspect: 'n/a', train: { exit2: /tensors\.json entry 0 \("g\/0"\) field "offset": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint tensor with a fractional offset', kind: 'checkpoint', path: 'checkpoints/tensor-fractional-offset', inspect: 'n/a', train: { exit2: /tensors\.json entry 0 \("g\/0"\) field "offset": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint tensor of an unknown dtype', kind: 'checkpoint', path: 'checkpoints/tensor-unknown-dtype', inspect: 'n/a', train: { exit2: /tensors\.json entry 0 \("g\/0"\) field "dtype": expected "float32" or "int32"/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint with a tensor name twice', kind: 'checkpoint', path: 'checkpoints/tensor-duplicate-name', inspect: 'n/a', train: { exit2: /tensors\.json entry 1 \("g\/0"\) field "name": "g\/0" appears twice/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint tensor with a negative dimension', kind: 'checkpoint', path: 'checkpoints/tensor-bad-shape', inspect: 'n/a', train: { exit2: /tensors\.json entry 0 \("g\/0"\) field "shape\.1": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json rngState -1', kind: 'checkpoint', path: 'checkpoints/state-bad-rngstate', inspect: 'n/a', train: { exit2: /state\.json field "rngState": expected an integer 0\.\.2\^32-1/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json step 1.5', kind: 'checkpoint', path: 'checkpoints/state-bad-step', inspect: 'n/a', train: { exit2: /state\.json field "step": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json epoch "one"', kind: 'checkpoint', path: 'checkpoints/state-bad-epoch', inspect: 'n/a', train: { exit2: /state\.json field "epoch": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json bestEpoch -1', kind: 'checkpoint', path: 'checkpoints/state-bad-bestepoch', inspect: 'n/a', train: { exit2: /state\.json field "bestEpoch": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json cursor position -3', kind: 'checkpoint', path: 'checkpoints/state-bad-cursors', inspect: 'n/a', train: { exit2: /state\.json field "cursors\.normal\.pos": expected an integer ≥ 0/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json config not an object', kind: 'checkpoint', path: 'checkpoints/state-config-not-object', inspect: 'n/a', train: { exit2: /state\.json field "config": expected an object/ }, score: 'n/a', module: 'n/a' },
  { id: 'checkpoint state.json a list, not an object', kind: 'checkpoint', path: 'checkpoints/state-not-object', inspect: 'n/a', train: { exit2: /state\.json: expected a JSON object/ }, score: 'n/a', module: 'n/a' },
];

// ---------------------------------------------------------------- helpers
interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function cli(args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<Run> {
  return slot(
    () =>
      new Promise((resolve) => {
        const t0 = Date.now();
        const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '', stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
        p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }); });
      }),
  );
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms (a hang)`)), ms); })]).finally(() => clearTimeout(timer));
}

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

/** Common checks of one CLI run; returns the text to match messages against. */
function checkRun(r: Run, what: string, expected: Ok | Refused): string {
  // --json messages are matched as written (JSON escapes the quotes that name a field).
  const messages = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l).message ?? ''; } catch { return ''; } }).filter(Boolean);
  const text = r.stdout + r.stderr + (messages.length ? '\n' + messages.join('\n') : '');
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} after ${r.ms} ms (hang or abort)\n${text.slice(-1500)}`);
  if ('exit2' in expected) {
    assert.equal(r.code, 2, `${what}: exit ${r.code}, expected 2\n${text.slice(-1500)}`);
    assert.match(text, expected.exit2, `${what}: message`);
    assert.doesNotMatch(text, STACK_FRAME, `${what}: a stack trace in the output of a bad-input error`);
  } else {
    assert.ok(r.code === 0 || r.code === 1, `${what}: exit ${r.code}\n${text.slice(-1500)}`);
  }
  return text;
}

const tmpRoot = mkdtempSync(join(tmpdir(), 'flawscope-corpus-'));
let tmpN = 0;
const fresh = (name = 'x') => { const d = join(tmpRoot, `${++tmpN}-${name}`); mkdirSync(d, { recursive: true }); return d; };

/** The small dataset an image case is fed to inspect and train in. */
function datasetWith(files: string[]): string {
  const d = fresh('ds');
  mkdirSync(join(d, 'good'));
  mkdirSync(join(d, 'defect'));
  for (const f of readdirSync(join(BAD, 'datasets/symlink-loop/good'))) cpSync(join(BAD, 'datasets/symlink-loop/good', f), join(d, 'good', f));
  for (const f of readdirSync(join(BAD, 'datasets/symlink-loop/defect'))) cpSync(join(BAD, 'datasets/symlink-loop/defect', f), join(d, 'defect', f));
  for (const f of files) {
    const dest = join(d, 'good', basename(f));
    const st = lstatSync(f);
    if (st.isFIFO()) execFileSync('mkfifo', [dest]);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(f), dest);
    else cpSync(f, dest);
  }
  return d;
}

const TRAIN_FLAGS = ['--size', '16', '--epochs', '1', '--batch', '32', '--json'];

/** train into a fresh parent folder; checks the no-partial-output rule. */
async function trainCheck(what: string, args: string[], expected: Ok | Refused): Promise<{ run: Run; text: string; out: string }> {
  const parent = fresh('out');
  const out = join(parent, 'model');
  const run = await cli(['train', ...args, '--out', out, ...TRAIN_FLAGS]);
  const text = checkRun(run, what, expected);
  if ('exit2' in expected) {
    assert.deepEqual(readdirSync(parent), [], `${what}: left ${readdirSync(parent).join(', ')} behind`);
  } else {
    assert.equal(run.code, 0, `${what}: exit ${run.code}\n${text.slice(-1500)}`);
    assert.deepEqual(readdirSync(parent), ['model'], `${what}: only the model folder is left (no lock, temp or checkpoint)`);
    assert.deepEqual(readdirSync(out).sort(), ['flawscope.json', 'model.json', 'weights.bin']);
    validateModelInfo(JSON.parse(readFileSync(join(out, 'flawscope.json'), 'utf8')));
  }
  return { run, text, out };
}

/** score with --heatmap into a fresh folder; checks complete or no heatmaps. */
async function scoreCheck(what: string, model: string, input: string, expected: Ok | Refused): Promise<void> {
  const hm = join(fresh('hm'), 'heatmaps');
  const run = await cli(['score', '--model', model, input, '--json', '--heatmap', hm]);
  const text = checkRun(run, what, expected);
  const written = existsSync(hm) ? readdirSync(hm) : [];
  if ('exit2' in expected) {
    assert.deepEqual(written, [], `${what}: partial output ${written.join(', ')}`);
    return;
  }
  const results = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === 'result');
  assert.ok(results.length > 0, `${what}: no image scored\n${text.slice(-1500)}`);
  assert.equal(written.length, results.length, `${what}: one heatmap per scored image, nothing else (${written.join(', ')})`);
  for (const r of results) {
    assert.ok(Number.isFinite(r.score), `${what}: score ${r.score}`);
    const meta = await sharp(r.heatmap).metadata();
    assert.deepEqual([meta.width, meta.height], [r.width, r.height], `${what}: heatmap ${r.heatmap} is complete and full-size`);
  }
}

let okScorer: Promise<Scorer> | null = null;
async function moduleCheck(c: Case, input: string, expected: ModuleOk | ModuleErr): Promise<void> {
  const what = `${c.id} / scorer module`;
  const attempt = async () => {
    if (c.kind === 'model') {
      const s = await loadScorerFromDir(input);
      s.dispose();
      return null;
    }
    okScorer ??= loadScorerFromDir(OK_MODEL);
    const scorer = await okScorer;
    if (c.kind === 'dataset') {
      const { files, problems } = await collectImages([input]);
      if (!files.length) throw new ScorerError('IMAGE_INVALID', problems.join('; '));
      let failed = 0;
      for (const f of files) {
        try { await scorer.score(await decodeImageFile(f)); } catch (e) { if (!(e instanceof ScorerError)) throw e; failed++; }
      }
      return { files: files.length, failed, problems };
    }
    const px = await decodeImageFile(input);
    return { result: await scorer.score(px) };
  };
  let got: Awaited<ReturnType<typeof attempt>> = null;
  let err: unknown = null;
  try { got = await within(attempt(), MODULE_TIMEOUT_MS, what); } catch (e) { err = e; }
  if ('code' in expected) {
    assert.ok(err instanceof ScorerError, `${what}: expected ScorerError ${expected.code}, got ${err ? (err as Error).stack : 'success'}`);
    assert.equal(err.code, expected.code, `${what}: ${err.message}`);
    if (expected.msg) assert.match(err.message, expected.msg);
    return;
  }
  assert.equal(err, null, `${what}: ${(err as Error)?.stack}`);
  if (got && 'result' in got && got.result) {
    const r = got.result;
    assert.ok(Number.isFinite(r.score) && r.score >= 0, `${what}: score ${r.score}`);
    if ((expected as ModuleOk).size) assert.deepEqual([r.width, r.height], (expected as ModuleOk).size, `${what}: result size (w x h)`);
    assert.equal(r.errorMap.length, r.width * r.height);
  }
  if (got && 'files' in got) {
    const want: Record<string, [number, number]> = { 'empty class folder': [6, 0], 'images outside any class folder': [3, 0], 'every anomaly image unreadable': [9, 3], 'dataset with symlink loops (class/loop -> .., class/self -> .)': [8, 0], 'paths with spaces and non-ASCII names': [10, 0] };
    if (want[c.id]) assert.deepEqual([got.files, got.failed], want[c.id], `${what}: [files, failed]`);
  }
}

function inputOf(c: Case, dir: string): string {
  return c.make ? c.make(dir) : join(BAD, c.path!);
}

// ---------------------------------------------------------------- tests
test('the corpus: at least 30 cases, every required kind, every tool has an expectation, under 1 MB', () => {
  assert.ok(CASES.length >= 30, `${CASES.length} cases`);
  for (const need of ['zero-byte', 'truncated PNG', 'truncated JPEG', '100000x100000', 'text file named .png', '16-bit', 'CMYK JPEG', 'animated GIF', 'EXIF-rotated', 'greyscale+alpha', 'IDX with a wrong magic', 'IDX cut short', 'CIFAR file cut mid-record', 'model.json that is not JSON', 'missing layer', 'weights file cut short', 'weights of the wrong shape', 'future format version', 'empty class folder', 'symlink loop', 'spaces and non-ASCII'])
    assert.ok(CASES.some((c) => c.id.includes(need)), `a case for "${need}"`);
  for (const c of CASES) if (c.path) assert.ok(existsSync(join(BAD, c.path)), `${c.path} exists (run node scripts/make-bad-corpus.mjs)`);
  const bytes = Number(execFileSync('du', ['-sb', BAD]).toString().split('\t')[0]);
  assert.ok(bytes < 1_000_000, `corpus is ${bytes} bytes`);
});

test('every case through inspect, train, score and the scorer module', { concurrency: CONCURRENCY, timeout: 600_000 }, async (t) => {
  const work = fresh('made');
  t.after(async () => { (await okScorer)?.dispose(); });
  const cases = KINDS ? CASES.filter((c) => KINDS.includes(c.kind)) : CASES;
  const imageCases = cases.filter((c) => c.kind === 'image');
  const inputs = new Map(cases.map((c) => [c, inputOf(c, work)] as const));

  // Accepted images: one combined training (each file checked on its own in the summary).
  const accepted = imageCases.filter((c) => c.train !== 'n/a' && 'ok' in c.train);
  const acceptedRun = (async () => {
    if (!accepted.length) return { summary: null, files: [] as string[] };
    const files = accepted.map((c) => inputs.get(c)!);
    const ds = datasetWith(files);
    const { run } = await trainCheck('accepted images / train (combined)', ['--data', ds, '--normal', 'good'], { ok: 'trained' });
    const start = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.type === 'start');
    return { summary: start.summary, files };
  })();
  acceptedRun.catch(() => {});
  // Image cases: one inspect over a dataset holding all of them (each file checked in the report).
  const imageInspect = (async () => {
    if (!imageCases.length) return null;
    const r = await cli(['datasets', 'inspect', datasetWith(imageCases.map((c) => inputs.get(c)!)), '--json']);
    const text = checkRun(r, 'image cases / inspect (combined)', { ok: 'report' });
    assert.equal(r.code, 0, text);
    return JSON.parse(r.stdout);
  })();
  imageInspect.catch(() => {});
  // Image cases that score: one score run over all of them (each file's result checked).
  const scored = imageCases.filter((c) => c.score !== 'n/a' && 'ok' in c.score);
  const acceptedScore = (async () => {
    if (!scored.length) return new Map();
    const hm = join(fresh('hm'), 'heatmaps');
    const r = await cli(['score', '--model', OK_MODEL, ...scored.map((c) => inputs.get(c)!), '--json', '--heatmap', hm]);
    const text = checkRun(r, 'accepted images / score (combined)', { ok: 'scored' });
    assert.equal(r.code, 0, text.slice(-2000));
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    assert.equal(readdirSync(hm).length, scored.length, 'one heatmap per image');
    return new Map(events.filter((e) => e.event === 'result').map((e) => [e.file, e]));
  })();
  acceptedScore.catch(() => {});

  await Promise.all(cases.map((c) =>
    t.test(c.id, async () => {
      const input = inputs.get(c)!;
      const jobs: Promise<void>[] = [];
      // inspect
      if (c.inspect !== 'n/a') {
        const exp = c.inspect;
        jobs.push((async () => {
          let rep: any;
          if (c.kind === 'image') rep = await imageInspect;
          else {
            const r = await cli(['datasets', 'inspect', input, '--json']);
            const text = checkRun(r, `${c.id} / inspect`, exp);
            if ('ok' in exp) assert.equal(r.code, 0, `${c.id} / inspect: exit ${r.code}\n${text}`);
            if ('ok' in exp) rep = JSON.parse(r.stdout);
          }
          if ('ok' in exp) {
            const listed = rep.skipped.some((s: { path: string }) => s.path.endsWith('/' + basename(input)));
            if (c.kind === 'image') assert.equal(listed, !!exp.listed, `${c.id} / inspect: ${exp.listed ? '' : 'not '}listed under skipped (${JSON.stringify(rep.skipped)})`);
            if (c.id.startsWith('EXIF')) assert.ok(rep.imageSizes.common.some((x: { size: string }) => x.size === '16x32'), `rotated size 16x32 among ${JSON.stringify(rep.imageSizes.common)}`);
            if (c.id.includes('100000x100000'))
              assert.ok(rep.skipped.some((s: { path: string; reason: string }) => s.path.endsWith('bomb-100000x100000.png') && /100000x100000 pixels exceeds the limit/.test(s.reason)), 'the bomb is refused from its header');
            if (c.id.startsWith('dataset with symlink loops')) {
              assert.equal(rep.total, 8, 'the loops add no images');
              assert.equal(rep.skipped.filter((s: { reason: string }) => /loop/.test(s.reason)).length, 2);
            }
            if (c.id === 'empty class folder') assert.ok(rep.classes.some((k: { name: string; count: number }) => k.name === 'defect' && k.count === 0) && rep.warnings.some((w: string) => /no images/.test(w)));
            if (c.id === 'animated GIF') assert.equal(rep.ignoredFiles, 1, 'the GIF is the one ignored file');
          }
        })());
      }
      // train
      if (c.train !== 'n/a') {
        const exp = c.train;
        jobs.push((async () => {
          if (c.kind === 'checkpoint') {
            // Named OUT.checkpoint, as the trainer writes it: the model would go beside it, to OUT.
            const parent = fresh('out');
            const ck = join(parent, 'model.checkpoint');
            cpSync(input, ck, { recursive: true });
            const st = join(ck, 'state.json');
            if (existsSync(st)) writeFileSync(st, readFileSync(st, 'utf8').replace('REPLACED-BY-TEST', join(parent, 'model')));
            const r = await cli(['train', '--resume', ck, '--json']);
            checkRun(r, `${c.id} / train --resume`, exp);
            assert.deepEqual(readdirSync(parent), ['model.checkpoint'], `${c.id}: nothing written beside the checkpoint`);
            return;
          }
          if (c.kind === 'image' && 'ok' in exp) {
            const { summary, files } = await acceptedRun;
            const f = files[accepted.indexOf(c)];
            assert.ok(!summary.skipped.some((s: { path: string }) => s.path.endsWith(basename(f))), `${c.id}: not skipped in the combined training`);
            return;
          }
          const data = c.kind === 'image' ? datasetWith([input]) : input;
          const res = await trainCheck(`${c.id} / train`, ['--data', data, '--normal', c.normal ?? 'good'], exp);
          if ('ok' in exp && c.id === 'empty class folder') assert.match(res.text, /Class folder .*defect has no images/);
        })());
      }
      // score
      if (c.score !== 'n/a' && c.kind === 'image' && 'ok' in c.score) {
        jobs.push((async () => {
          const r = (await acceptedScore).get(input);
          assert.ok(r, `${c.id} / score: a result`);
          assert.ok(Number.isFinite(r.score), `${c.id} / score: ${r.score}`);
          const meta = await sharp(r.heatmap).metadata();
          assert.deepEqual([meta.width, meta.height], [r.width, r.height], `${c.id} / score: complete, full-size heatmap`);
          const size = c.module !== 'n/a' && 'size' in c.module ? c.module.size : undefined;
          if (size) assert.deepEqual([r.width, r.height], size, `${c.id} / score: size`);
        })());
      } else if (c.score !== 'n/a') {
        const exp = c.score;
        jobs.push(scoreCheck(`${c.id} / score`, c.kind === 'model' ? input : OK_MODEL, c.kind === 'model' ? GOOD_IMAGE : input, exp));
      }
      // scorer module
      if (c.module !== 'n/a') jobs.push(moduleCheck(c, input, c.module));
      const results = await Promise.allSettled(jobs);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failures.length) throw failures.length === 1 ? failures[0].reason : new AggregateError(failures.map((f) => f.reason), failures.map((f) => String(f.reason?.message ?? f.reason)).join('\n---\n'));
    }),
  ));
  // The combined training of the accepted images: every one decoded and counted.
  if (accepted.length) await t.test('accepted images: combined training used every decodable one', async () => {
    const { summary } = await acceptedRun;
    const decodable = accepted.filter((c) => !/GIF|FIFO|dev\/zero/.test(c.id)).length;
    const counted = summary.counts.trainNormal + summary.counts.trainAnomaly + summary.counts.validation;
    assert.equal(counted, 6 + 2 + decodable, `images used (${JSON.stringify(summary.counts)})`);
    assert.deepEqual(summary.skipped, []);
  });
});

test.after(() => rmSync(tmpRoot, { recursive: true, force: true }));
