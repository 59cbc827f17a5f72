/** The start event states how steps are shared between normal and anomaly batches (trainer/group-schedule.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli';
import { tinyData } from '../helpers/tiny-data';
import { train, DEFAULT_CONFIG, type TrainConfig } from '../../trainer/train';
import { loadTrainingData } from '../../trainer/data';
import type { ProgressEvent } from '../../trainer/progress';

const DATA = tinyData('flawscope-groups-data-');

async function startEvent(over: Partial<TrainConfig>) {
  const events: ProgressEvent[] = [];
  const cfg: TrainConfig = { ...DEFAULT_CONFIG, data: DATA, normal: 'good', out: join(tempDir('flawscope-groups-'), 'model'), size: 16, batch: 8, epochs: 1, seed: 1, ...over };
  await train(cfg, {
    emit: (e) => events.push(e),
    shouldStop: () => false,
    loadData: (c) => loadTrainingData({ ...c.dataOptions, root: c.data, normalClass: c.normal, size: c.size, channels: c.channels, seed: c.seed, validationFraction: c.validationFraction }),
  });
  const s = events.find((e) => e.type === 'start');
  assert.ok(s && s.type === 'start' && s.groups);
  return s.groups;
}

test('the start event names the rule: auto raises an unbalanced set to a quarter of anomaly steps; size and a number as asked', async () => {
  // 36 normal and 7 anomaly training images (the tiny set minus validation): 16 % by size.
  const auto = await startEvent({});
  assert.deepEqual([auto.rule, auto.anomalyShare, auto.normal, auto.anomaly], ['auto-floor', 0.25, 36, 7]);
  const size = await startEvent({ anomalyShare: 'size' });
  assert.deepEqual([size.rule, size.anomalyShare], ['size', 7 / 43]);
  const fixed = await startEvent({ anomalyShare: 0.5 });
  assert.deepEqual([fixed.rule, fixed.anomalyShare], ['fixed', 0.5]);
});
