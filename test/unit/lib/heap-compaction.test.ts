import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { HeapCompactor, SCRAPE_SETTLE_MS, type CompactionPolicy, type HeapControl } from '../../../src/lib/heap-compaction.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';

const MB = 1024 * 1024;
const POLICY: CompactionPolicy = { minGrowthBytes: 2 * MB, minGrowthRatio: 0.1, scrapeMinGrowthBytes: 1 * MB, maxTimeShare: 0.05 };

type FakeHeap = HeapControl & { size: number; live: number; compactions: number; fail: boolean };

interface Rig {
  readonly clock: FakeClock;
  readonly heap: FakeHeap;
  readonly compactor: HeapCompactor;
  readonly lines: string[];
  /** malloc trims so far */
  readonly trims: { count: number };
  /** the heap grows by `growth` bytes, a reload ends, its check runs */
  readonly reload: (growth: number) => Promise<void>;
  /** a scrape starts, grows the heap by `growth` bytes and is answered; its check runs */
  readonly scrape: (growth: number) => Promise<void>;
}

interface RigOptions {
  readonly sizeMb?: number;
  readonly liveMb?: number;
  readonly fail?: boolean;
  /** a first reload done (which only takes the heap as it is) */
  readonly primed?: boolean;
  /** a malloc trim given to the compactor */
  readonly malloc?: boolean;
}

/**
 * A compactor on a heap of `sizeMb` of which `liveMb` is live (what a compaction leaves), each
 * compaction taking 100 ms of the clock and each malloc trim 2 ms.
 */
async function rig({ sizeMb = 20, liveMb = 15, fail = false, primed = true, malloc = false }: RigOptions = {}): Promise<Rig> {
  const clock = new FakeClock();
  const heap: FakeHeap = {
    size: sizeMb * MB,
    live: liveMb * MB,
    compactions: 0,
    fail,
    committedBytes: () => heap.size,
    compact: (): Promise<void> => {
      heap.compactions++;
      clock.spend(100);
      if (heap.fail) return Promise.reject(new Error('no inspector'));
      heap.size = heap.live;
      return Promise.resolve();
    },
  };
  const trims = { count: 0 };
  const trim = { trim: (): boolean => (clock.spend(2), trims.count++, true) };
  const { log, lines } = memoryLogger();
  const compactor = new HeapCompactor(heap, POLICY, clock, log, malloc ? trim : null);
  const reload = async (growth: number): Promise<void> => {
    heap.size += growth;
    compactor.afterReload();
    await clock.advance(0);
  };
  const scrape = async (growth: number): Promise<void> => {
    compactor.scrapeStarted();
    heap.size += growth;
    compactor.scrapeAnswered();
    await clock.advance(SCRAPE_SETTLE_MS);
  };
  if (primed) {
    await reload(0);
    assert.equal(heap.compactions, 0, 'the first reload only takes the heap as it is');
  }
  return { clock, heap, compactor, lines, trims, reload, scrape };
}

void test('compacts once the heap has grown by the threshold since the last compaction, not before', async () => {
  const { clock, heap, reload } = await rig();
  await reload(1.9 * MB);
  assert.equal(heap.compactions, 0, '1.9 MB over 20 MB is below both thresholds');
  await reload(0.2 * MB);
  assert.equal(heap.compactions, 1);
  assert.equal(heap.size, 15 * MB);
  await clock.advance(10_000);
  await reload(1.9 * MB);
  assert.equal(heap.compactions, 1, 'measured from the size after the compaction');
  await reload(0.2 * MB);
  assert.equal(heap.compactions, 2);
});

void test('on a large heap the threshold is a share of its size', async () => {
  const { heap, reload } = await rig({ sizeMb: 100, liveMb: 90 });
  await reload(9 * MB);
  assert.equal(heap.compactions, 0, '9 MB is below 10 % of 100 MB');
  await reload(1 * MB);
  assert.equal(heap.compactions, 1);
});

void test('a heap that shrank by itself becomes the new base', async () => {
  const { heap, reload } = await rig();
  await reload(-5 * MB);
  await reload(2.1 * MB);
  assert.equal(heap.compactions, 1, '17.1 MB is 2.1 MB over the 15 MB seen');
});

void test('compactions take at most the set share of the time', async () => {
  const { clock, heap, reload } = await rig();
  await reload(6 * MB);
  assert.equal(heap.compactions, 1);
  // 100 ms at 5 %: the next one 1 900 ms after the end of this one at the earliest
  await clock.advance(1_800);
  await reload(6 * MB);
  assert.equal(heap.compactions, 1, 'within the budget window');
  await clock.advance(200);
  await reload(0);
  assert.equal(heap.compactions, 2);
});

void test('one check per turn however many reloads ask, and none after stop', async () => {
  const { clock, heap, compactor } = await rig();
  heap.size += 6 * MB;
  for (let i = 0; i < 20; i++) compactor.afterReload();
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(0);
  assert.equal(heap.compactions, 1);
  heap.size += 60 * MB;
  await clock.advance(60_000);
  compactor.afterReload();
  compactor.stop();
  await clock.advance(0);
  assert.equal(heap.compactions, 1);
});

void test('a failed compaction is logged and still counts against the time budget', async () => {
  const { clock, heap, lines, reload } = await rig({ fail: true });
  await reload(6 * MB);
  assert.equal(heap.compactions, 1);
  assert.ok(lines.some((l) => l.includes('heap compaction failed') && l.includes('no inspector')), lines.join('\n'));
  await clock.advance(1_000);
  await reload(6 * MB);
  assert.equal(heap.compactions, 1);
});

void test('scrapes: the heap before the first scrape is the base, and the check runs a while after the answer', async () => {
  const { clock, heap, compactor } = await rig({ sizeMb: 30, liveMb: 28, primed: false });
  compactor.scrapeStarted();
  heap.size += 6 * MB;
  compactor.scrapeAnswered();
  await clock.advance(SCRAPE_SETTLE_MS - 1);
  assert.equal(heap.compactions, 0, 'not before the settle time');
  await clock.advance(1);
  assert.equal(heap.compactions, 1, '36 MB is 6 MB over the 30 MB seen before the scrape');
  assert.equal(heap.size, 28 * MB);
});

void test('scrapes: the least heap seen at a scrape start since the last compaction is the base, and their threshold is their own', async () => {
  const { clock, heap, reload, scrape } = await rig({ sizeMb: 30, liveMb: 28, primed: false });
  await scrape(0.5 * MB);
  await scrape(0.4 * MB);
  assert.equal(heap.compactions, 0, '30.9 MB: 0.9 MB over 30');
  // probing between scrapes grows it too: measured from the 30 MB, not the 30.9 seen at this start
  await scrape(0.2 * MB);
  assert.equal(heap.compactions, 1);
  // from the size after the compaction; a reload needs 2 MB and 10 %, a scrape 1 MB
  await clock.advance(2_000);
  await reload(1.5 * MB);
  assert.equal(heap.compactions, 1, '29.5 MB: 1.5 MB over 28 is not enough after a reload');
  await scrape(0);
  assert.equal(heap.compactions, 2, 'but is after a scrape');
});

void test('scrapes and reloads share one base and one time budget', async () => {
  const { clock, heap, reload, scrape } = await rig({ sizeMb: 30, liveMb: 28 });
  await scrape(6 * MB);
  assert.equal(heap.compactions, 1);
  // 100 ms at 5 %: none within 1 900 ms of its end
  await reload(6 * MB);
  await clock.advance(1_800);
  await reload(0);
  assert.equal(heap.compactions, 1, 'within the budget window');
  await clock.advance(100);
  await reload(0);
  assert.equal(heap.compactions, 2, 'the reload measured from the scrape compaction\'s 28 MB');
});

void test('malloc is trimmed after each compaction, and only then', async () => {
  const { clock, heap, lines, trims, scrape, reload } = await rig({ sizeMb: 30, liveMb: 28, primed: false, malloc: true });
  await scrape(0.5 * MB);
  assert.equal(trims.count, 0, 'no compaction, no trim');
  await scrape(6 * MB);
  assert.equal(heap.compactions, 1);
  assert.equal(trims.count, 1);
  assert.ok(lines.some((l) => l.includes('heap compacted after scrapes') && l.includes('mallocTrimmed')), lines.join('\n'));
  heap.fail = true;
  await clock.advance(60_000);
  await reload(60 * MB);
  assert.equal(heap.compactions, 2);
  assert.equal(trims.count, 1, 'not after a failed compaction');
});

// A child keeps ~14 MB live among ~15 MB of garbage that reached the old generation (as reloads
// leave it), then compacts its heap: the committed heap must come down to near the live size. A
// regular full collection keeps most of those pages; the day V8's low-memory collection does too,
// this fails.
const CHILD = `
  const { threadHeap } = await import(${JSON.stringify(new URL('../../../src/lib/heap-compaction.js', import.meta.url).href)});
  const live = [];
  for (let i = 0; i < 150000; i++) live.push({ a: i, b: 'target-' + i });
  let aging = [];
  for (let r = 0; r < 200; r++) {
    for (let i = 0; i < 1000; i++) {
      aging.push({ r, i, s: 'reload-' + i });
      if (i % 50 === 0) live.push({ r, i });
    }
    if (aging.length > 20000) aging = [];
  }
  aging = [];
  globalThis.keep = live;
  const before = threadHeap.committedBytes();
  await threadHeap.compact();
  process.stdout.write(JSON.stringify({ before, after: threadHeap.committedBytes() }));
`;

void test('the thread heap compaction gives the pages of old garbage back', () => {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
  assert.ok(before - after > 8 * MB, `committed ${(before / MB).toFixed(1)} -> ${(after / MB).toFixed(1)} MB`);
});
