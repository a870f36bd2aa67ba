import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../../src/lib/heap-growth.js';

void test('sets the heap growth cap unless node was given one on its command line', () => {
  const set: string[] = [];
  assert.equal(limitHeapGrowth(['--max-semi-space-size=1'], (f) => set.push(f)), true);
  assert.deepEqual(set, [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  for (const given of ['--heap-growing-percent=50', '--heap_growing_percent=50', '--heap-growing-percent']) {
    assert.equal(limitHeapGrowth([given], (f) => set.push(f)), false, given);
  }
  assert.equal(set.length, 1);
});

// A child keeps ~40 MB live and turns over garbage that outlives the young generation (as a
// prober's rounds do); it prints the largest heap it saw. Set at run time, the flag must still
// bound that heap: the day V8 ignores it, this fails.
const CHILD = `
  const { setFlagsFromString } = await import('node:v8');
  const { limitHeapGrowth } = await import(${JSON.stringify(new URL('../../../src/lib/heap-growth.js', import.meta.url).href)});
  if (process.argv[1] === 'cap') limitHeapGrowth(process.execArgv, setFlagsFromString);
  const live = [];
  for (let i = 0; i < 300000; i++) live.push({ a: i, b: 'target-' + i, c: [i, i + 1] });
  let aging = [];
  let max = 0;
  for (let i = 0; i < 2000000; i++) {
    aging.push({ v: i * 1.5, w: [i] });
    if (aging.length > 40000) aging = aging.slice(20000);
    if (i % 5000 === 0) max = Math.max(max, process.memoryUsage().heapTotal);
  }
  globalThis.keep = live;
  process.stdout.write(String(max / 1048576));
`;

function maxHeapMb(mode: string): number {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', CHILD, mode], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

void test('the cap set at run time bounds the heap: the old generation stays near its live size', () => {
  const capped = maxHeapMb('cap');
  const free = maxHeapMb('none');
  assert.ok(capped < free * 0.85, `largest heap ${capped.toFixed(1)} MB capped against ${free.toFixed(1)} MB by default`);
});
