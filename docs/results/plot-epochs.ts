/**
 * Draws docs/results/auroc-vs-epoch.svg: validation AUROC per epoch of the longer runs (one class
 * per data set), from their result.json files. Run: node --import tsx docs/results/plot-epochs.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aurocVsEpochSvg, type Series } from '../../trainer/eval/svg';

const here = __dirname;
const runs: [string, string][] = [
  ['MNIST 8', 'mnist-8-quick-15ep/runs/8/result.json'],
  ['Fashion-MNIST 6 (shirt)', 'fashion-mnist-6-quick-15ep/runs/6/result.json'],
  ['CIFAR-10 2 (bird)', 'cifar10-2-quick-10ep/runs/2/result.json'],
  ['Magnetic tile patches', 'magnetic-tile-quick/runs/0/result.json'],
];
/** Each run's result.json that exists, with its label; runs not made on this checkout are left out. */
function results<T extends [string, string, ...unknown[]]>(list: T[]): [T, any][] {
  return list.filter(([, p]) => existsSync(join(here, p))).map((row) => [row, JSON.parse(readFileSync(join(here, row[1]), 'utf8'))]);
}
const valPoints = (r: any, key = 'valAuroc'): [number, number][] => r.history.map((h: any) => [h.epoch, h[key] ?? NaN]);

const series: Series[] = results(runs).map(([[name], r]) => ({ name: `${name} (test ${(100 * (r.eval?.auroc ?? NaN)).toFixed(1)} at best-val epoch ${r.bestEpoch})`, points: valPoints(r) }));
writeFileSync(join(here, 'auroc-vs-epoch.svg'), aurocVsEpochSvg(series, 'Validation AUROC per epoch, quick data, batch 32'));
console.log(`${series.length} series`);

// The longest run of each data set with the configuration each keeps (full §4.1 training data
// except MNIST's): how far validation still moves at the end of the budget.
const longest: [string, string][] = [
  ['MNIST 8 (quick data)', 'mnist-8-quick-15ep/runs/8/result.json'],
  ['Fashion-MNIST shirt', 'fashion-mnist-standard-45ep-batch32/runs/6/result.json'],
  ['CIFAR-10 bird', 'cifar10-standard-45ep-recon-abc-hflip/runs/2/result.json'],
  ['Magnetic tile patches', 'magnetic-tile-standard-30ep-recon-abc-nobalance/runs/0/result.json'],
];
const longSeries: Series[] = results(longest).map(([[name], r]) => ({ name: `${name}: test ${(100 * (r.eval?.auroc ?? NaN)).toFixed(1)} at epoch ${r.bestEpoch}`, points: valPoints(r) }));
writeFileSync(join(here, 'auroc-vs-epoch-longest.svg'), aurocVsEpochSvg(longSeries, 'Validation AUROC per epoch, the longest run of each data set'));
console.log(`${longSeries.length} longest-run series`);

// The weight-average runs: validation AUROC of the average (solid; what the run keeps) and of the
// trained weights it follows (dashed; the same trajectory as the run without the average).
const averaged: [string, string, string][] = [
  ['CIFAR-10 bird', 'cifar10-standard-45ep-recon-abc-hflip-wavg/runs/2/result.json', '#1f77b4'],
  ['CIFAR-10 cat', 'cifar10-standard-45ep-recon-abc-hflip-wavg/runs/3/result.json', '#d62728'],
  ['Fashion-MNIST shirt', 'fashion-mnist-6-standard-45ep-batch32-wavg/runs/6/result.json', '#2ca02c'],
  ['Magnetic tile patches', 'magnetic-tile-standard-10ep-recon-abc-nobalance-wavg/runs/0/result.json', '#9467bd'],
];
const avgSeries: Series[] = results(averaged).flatMap(([[name, , color], r]) => [
  { name: `${name}: weight average (test ${(100 * r.eval.auroc).toFixed(2)})`, color, points: valPoints(r) },
  { name: `${name}: trained weights`, color, dashed: true, points: valPoints(r, 'valAurocTrained') },
]);
writeFileSync(join(here, 'weight-average-vs-epoch.svg'), aurocVsEpochSvg(avgSeries, 'Validation AUROC per epoch, --weight-average 0.999'));
console.log(`${avgSeries.length} weight-average series`);
