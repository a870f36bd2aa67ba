// SQLite flow store throughput: how many rows per second the store sustains (inserts in its
// worker thread, batches of --batch rows per transaction, fed as fast as its bounded queue takes
// them), the process CPU (all threads) per 10^6 rows, the database size per row, and the time of
// a top-10 query (group by src) over everything written. Synthetic flows (test/fakes/flow-batch.ts) are made
// before the clock starts. Run: node dist/bench/flow-store-bench.js [--rows N] [--batches 1000,5000,10000]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteFlowStore } from '../src/flows/store/sqlite.js';
import { createLogger } from '../src/lib/logger.js';
import type { FlowBatch } from '../src/packet/flow/types.js';
import { syntheticBatch } from '../test/fakes/flow-batch.js';
import { peakRssKb } from './proc-stats.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    batches: { type: 'string', default: '1000,5000,10000' },
    /** rows per FlowBatch handed to write() (what one decoder task yields) */
    chunk: { type: 'string', default: '1000' },
  },
});
const ROWS = Number(args.rows);
const CHUNK = Number(args.chunk);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  batch: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  cpuSecondsPerMillion: number;
  bytesPerRow: number;
  top10Ms: number;
}

async function run(batchSize: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'wp-flowbench-'));
  const path = join(dir, 'bench.db');
  const now = Date.now();
  const input: FlowBatch[] = [];
  // flows end in arrival order, give or take a minute (what exporters' active timeouts give)
  const chunks = Math.ceil(ROWS / CHUNK);
  for (let i = 0; i < chunks; i++) {
    const end = now - 3_600_000 + Math.floor((3_600_000 * (i + 1)) / chunks);
    input.push(syntheticBatch(Math.min(CHUNK, ROWS - i * CHUNK), i, end - 60_000, end));
  }
  const store = await openSqliteFlowStore({
    config: { path, retention: { max_age: 0, max_bytes: 0 }, batch_size: batchSize, flush_interval: 1 },
    log: createLogger((l) => process.stderr.write(`${l}\n`), 'warn'),
    maxQueuedRows: Math.max(100_000, batchSize * 20),
  });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const b of input) {
      // feed as fast as the bounded queue takes it: never drop, never block
      while (store.stats().queued + b.count > Math.max(100_000, batchSize * 20)) await sleep(1);
      store.write(b);
    }
    await store.flush(600_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s = store.stats();
    if (s.written !== ROWS || s.dropped !== 0) throw new Error(`written ${s.written}, dropped ${s.dropped} of ${ROWS}`); // uncoded-error: bench
    const q0 = performance.now();
    await store.query({ fromMs: 0, toMs: now + 1, filter: {}, groupBy: 'src', orderBy: 'bytes', limit: 10 }, 120_000);
    const top10Ms = performance.now() - q0;
    await store.close(60_000);
    return {
      batch: batchSize,
      rows: ROWS,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(ROWS / seconds),
      cpuSecondsPerMillion: Number((((cpu.user + cpu.system) / 1e6) * (1e6 / ROWS)).toFixed(2)),
      bytesPerRow: Math.round(statSync(path).size / ROWS),
      top10Ms: Math.round(top10Ms),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Row[] = [];
for (const b of args.batches.split(',').map(Number)) results.push(await run(b));
console.table(results);
process.stdout.write(`peak RSS ${Math.round((peakRssKb(process.pid) ?? 0) / 1024)} MiB; load average at the end ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
