/**
 * `flawscope train` settings: one schema for flags, --config files and a checkpoint's saved config.
 * Known bad values are refused naming the flag or the file and key; a generator of hostile values
 * drives every setting through both sources and checks the outcome is a valid config or an
 * InputError naming the setting — never another exception, never a value out of range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../trainer/data/types';
import { flagOf, parseTrainOptions } from '../../trainer/train-options';
import { trainConfigFromFlags } from '../../trainer/cli-train-config';
import { PAPER_WEIGHTS } from '../../trainer/losses';

const FILE = { kind: 'file', label: '--config c.json' } as const;
const FLAG = { kind: 'flag' } as const;

function refused(fn: () => unknown, msg: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof InputError, `an InputError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.match(e.message, msg);
    return true;
  });
}

function configFile(content: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'flawscope-cfg-')), 'c.json');
  writeFileSync(f, content);
  return f;
}

const flags = (o: Record<string, string>) => new Map(Object.entries({ data: 'd', out: 'o', ...o }));

test('--config values the red team found unchecked are refused naming the file and key', () => {
  const cases: [string, RegExp][] = [
    ['{"batch":0}', /"batch" 0: expected an integer from 1 to 4096/],
    ['{"epochs":-1}', /"epochs" -1: expected an integer from 1/],
    ['null', /expected a JSON object of settings .* got null/],
    ['[1,2]', /expected a JSON object of settings .* got an array/],
    ['{"lr":"abc"}', /"lr" abc: expected a number above 0/],
    ['{"lr":1e30}', /"lr" 1e\+30: expected a number above 0 and at most 1/],
    ['{"validationFraction":0}', /"validationFraction" 0: expected a number above 0/],
    ['{"weights":{"toString":1}}', /"weights" .*expected loss weights/],
    ['{"weights":{"__proto__":1}}', /"weights" .*expected loss weights/],
    ['{"epochz":3}', /unknown setting "epochz"; known: data, out/],
    ['{"dataOptions":{"constructor":"x"}}', /"dataOptions"/],
  ];
  for (const [json, msg] of cases) {
    const f = configFile(json);
    refused(() => trainConfigFromFlags(new Map([['config', f], ['data', 'd'], ['out', 'o']])), new RegExp(`--config ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${msg.source}`));
  }
});

test('a partial "weights" object changes only the losses it names (it used to wipe the rest to zero)', () => {
  const f = configFile('{"weights":{"abc":2}}');
  const cfg = trainConfigFromFlags(new Map([['config', f], ['data', 'd'], ['out', 'o']]));
  assert.deepEqual(cfg.weights, { ...PAPER_WEIGHTS, abc: 2 });
  const both = trainConfigFromFlags(new Map([['config', f], ['data', 'd'], ['out', 'o'], ['weights', 'recon=3']]));
  assert.deepEqual(both.weights, { ...PAPER_WEIGHTS, abc: 2, recon: 3 });
});

test('flags: the same ranges and messages, naming the flag', () => {
  refused(() => trainConfigFromFlags(flags({ weights: 'toString=1' })), /^--weights toString=1: expected loss weights/);
  refused(() => trainConfigFromFlags(flags({ weights: '__proto__=1' })), /^--weights __proto__=1/);
  refused(() => trainConfigFromFlags(flags({ lr: '1e30' })), /^--lr 1e30: expected a number above 0 and at most 1/);
  refused(() => trainConfigFromFlags(flags({ 'validation-fraction': '0' })), /^--validation-fraction 0: expected a number above 0/);
  refused(() => trainConfigFromFlags(flags({ epochs: '' })), /^--epochs : expected an integer/);
  refused(() => trainConfigFromFlags(flags({ epochs: ' 3' })), /^--epochs  3: expected an integer/);
  refused(() => trainConfigFromFlags(flags({ size: '24' })), /^--size 24: expected an integer from 16 to 1024, a multiple of 16/);
  refused(() => trainConfigFromFlags(flags({ 'loss-patch': '4,2' })), /^--loss-patch 4,2: expected SIZE,STRIDE,TOPN/);
  const ok = trainConfigFromFlags(flags({ epochs: '3', lr: '2e-4', 'loss-patch': '8,4,2', 'score-flip': 'horizontal', 'patch-size': '64' }));
  assert.equal(ok.epochs, 3);
  assert.equal(ok.lr, 2e-4);
  assert.deepEqual(ok.patch, { size: 8, stride: 4, topN: 2 });
  assert.equal(ok.scoreFlip, 'horizontal');
  assert.deepEqual(ok.dataOptions, { patchSize: '64' }, 'a flag train does not know goes to the data reader');
});

test('threshold rule: --false-alarm-rate by default 0.01, --defect-rate instead; both in one source refused naming both; flags replace a file\'s rule', () => {
  const dflt = trainConfigFromFlags(flags({}));
  assert.deepEqual([dflt.falseAlarmRate, dflt.defectRate], [0.01, null]);
  const fa = trainConfigFromFlags(flags({ 'false-alarm-rate': '0.05' }));
  assert.deepEqual([fa.falseAlarmRate, fa.defectRate], [0.05, null]);
  const dr = trainConfigFromFlags(flags({ 'defect-rate': '0.02' }));
  assert.deepEqual([dr.falseAlarmRate, dr.defectRate], [null, 0.02], 'the default false-alarm rate does not linger beside a defect rate');
  refused(() => trainConfigFromFlags(flags({ 'false-alarm-rate': '0.05', 'defect-rate': '0.02' })), /^--false-alarm-rate 0.05 and --defect-rate 0.02: give one of the two threshold rules, not both/);
  refused(() => trainConfigFromFlags(flags({ 'false-alarm-rate': '0.6' })), /^--false-alarm-rate 0.6: expected a number above 0 and at most 0.5/);
  refused(() => trainConfigFromFlags(flags({ 'defect-rate': '0' })), /^--defect-rate 0: expected a number above 0 and at most 0.5/);
  const both = configFile('{"falseAlarmRate":0.05,"defectRate":0.02}');
  refused(() => trainConfigFromFlags(new Map([['config', both], ['data', 'd'], ['out', 'o']])), /"falseAlarmRate" 0.05 and "defectRate" 0.02: give one of the two/);
  const fileDr = configFile('{"defectRate":0.02}');
  const over = trainConfigFromFlags(new Map([['config', fileDr], ['data', 'd'], ['out', 'o'], ['false-alarm-rate', '0.03']]));
  assert.deepEqual([over.falseAlarmRate, over.defectRate], [0.03, null], 'flags win: the file\'s defect rate is replaced, not met as "both"');
  const fromFile = trainConfigFromFlags(new Map([['config', fileDr], ['data', 'd'], ['out', 'o']]));
  assert.deepEqual([fromFile.falseAlarmRate, fromFile.defectRate], [null, 0.02]);
});

// ---------------------------------------------------------------- hostile values, generated
const HOSTILE: unknown[] = [
  null, true, false, 0, -0, 1, -1, 0.5, -0.5, 1.5, 3, 16, 17, 64, 1024, 4096, 4097, 1e9, -1e9, 1e308, -1e308, 2 ** 53, Number.MAX_VALUE,
  '', ' ', '1', '0', '-1', '1e3', 'NaN', 'Infinity', '-Infinity', '1,2,3', 'a=1', 'recon=1', 'recon=-1', 'recon=NaN', '__proto__', 'constructor',
  'toString=1', 'none', 'auto', 'all', 'horizontal', 'true', 'false', '../..', '\u0000', 'x'.repeat(5000),
  [], [1, 2], {}, { recon: 1 }, { size: 4, stride: 2, topN: 1 }, { __proto__: null, polluted: 1 }, { toString: 1 },
];
const KEYS = ['data', 'out', 'normal', 'size', 'channels', 'epochs', 'batch', 'seed', 'lr', 'lrDecayEvery', 'beta1', 'beta2', 'weights', 'patch', 'score', 'scoreFlip', 'scoreShift', 'tileStride', 'skips', 'weightAverage', 'backend', 'validationFraction', 'falseAlarmRate', 'defectRate', 'force', 'keepCheckpoint', 'dataOptions'];
const JSON_NONFINITE = ['NaN', 'Infinity', '-Infinity'];

/** Every accepted value is in its documented range (the schema's job, checked independently here). */
function inRange(key: string, v: any): boolean {
  const int = (lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  switch (key) {
    case 'size': return int(16, 1024) && v % 16 === 0;
    case 'channels': return v === 1 || v === 3;
    case 'epochs': return int(1, 100000);
    case 'batch': return int(1, 4096);
    case 'seed': return int(0, 0xffffffff);
    case 'lr': return v > 0 && v <= 1;
    case 'lrDecayEvery': return int(1, 100000);
    case 'beta1': case 'beta2': case 'weightAverage': return v >= 0 && v < 1;
    case 'validationFraction': return v > 0 && v <= 0.9;
    case 'falseAlarmRate': case 'defectRate': return v === null || (typeof v === 'number' && v > 0 && v <= 0.5);
    case 'tileStride': return v === null || int(1, 1024);
    case 'weights': return typeof v === 'object' && v !== null && Object.entries(v).every(([k, x]) => Object.hasOwn(PAPER_WEIGHTS, k) && typeof x === 'number' && x >= 0 && Number.isFinite(x));
    case 'patch': return v === null || (int(1, 1024) && false) || (typeof v === 'object' && [v.size, v.stride].every((x: number) => Number.isInteger(x) && x >= 1 && x <= 1024) && Number.isInteger(v.topN) && v.topN >= 1);
    case 'force': case 'keepCheckpoint': return typeof v === 'boolean';
    case 'data': case 'out': case 'normal': return typeof v === 'string' && v.length > 0;
    case 'dataOptions': return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => !(k in Object.prototype));
    default: return typeof v === 'string';
  }
}

test('every setting × every hostile value, from a file and as a flag: a valid value or an InputError naming the setting', () => {
  let accepted = 0, refusedCount = 0;
  for (const key of KEYS) {
    for (const value of HOSTILE) {
      for (const source of ['file', 'flag'] as const) {
        if (source === 'flag' && (typeof value !== 'string' || key === 'dataOptions')) continue;
        const raw = source === 'file' ? JSON.parse(JSON.stringify({ [key]: value }) ?? '{}') : { [flagOf(key)]: value };
        if (source === 'file' && !(key in raw)) continue; // JSON.stringify dropped it
        try {
          const o = parseTrainOptions(raw, source === 'file' ? FILE : FLAG) as Record<string, unknown>;
          assert.ok(inRange(key, o[key]), `${source} ${key}=${JSON.stringify(value)} accepted as ${JSON.stringify(o[key])}, out of range`);
          accepted++;
        } catch (e) {
          assert.ok(e instanceof InputError, `${source} ${key}=${JSON.stringify(value)}: ${(e as Error)?.constructor?.name} ${(e as Error).message}`);
          const names = source === 'file' ? `"${key}"` : `--${flagOf(key)}`;
          assert.ok((e as Error).message.includes(names), `${source} ${key}: the message names ${names}: ${(e as Error).message}`);
          assert.ok((e as Error).message.length < 400, 'a bounded message (long values are cut)');
          refusedCount++;
        }
      }
    }
  }
  // Non-finite numbers cannot come from JSON.parse, but can from a flag's text: refused as text.
  for (const t of JSON_NONFINITE) refused(() => parseTrainOptions({ lr: t }, FLAG), /^--lr /);
  assert.ok(accepted > 50 && refusedCount > 500, `both outcomes exercised (accepted ${accepted}, refused ${refusedCount})`);
});

test('a config object with prototype keys or a non-object is refused, never merged', () => {
  refused(() => parseTrainOptions(JSON.parse('{"__proto__":{"epochs":1}}'), FILE), /unknown setting "__proto__"/);
  refused(() => parseTrainOptions(JSON.parse('{"constructor":1}'), FILE), /unknown setting "constructor"/);
  for (const v of [null, 3, 'x', [1]]) refused(() => parseTrainOptions(v, FILE), /--config c\.json: expected a JSON object/);
  assert.equal(({} as Record<string, unknown>).epochs, undefined, 'Object.prototype untouched');
});
