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
const series: Series[] = [];
for (const [name, p] of runs) {
  const f = join(here, p);
  if (!existsSync(f)) continue;
  const r = JSON.parse(readFileSync(f, 'utf8'));
  series.push({ name: `${name} (test ${(100 * (r.eval?.auroc ?? NaN)).toFixed(1)} at best-val epoch ${r.bestEpoch})`, points: r.history.map((h: any) => [h.epoch, h.valAuroc ?? NaN]) });
}
writeFileSync(join(here, 'auroc-vs-epoch.svg'), aurocVsEpochSvg(series, 'Validation AUROC per epoch, quick data, batch 32'));
console.log(`${series.length} series`);
