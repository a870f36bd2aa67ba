// SQLite flow store (chunked columnar layout): how many flows per second the store takes in
// (inserts in its worker thread, transactions of --batch flows, fed as fast as its bounded queue
// takes them), the process CPU (all threads) per 10^6 flows, the database size per 10^6 flows,
// and the latency of top-N queries in the reader worker over --rows flows, about half of them
// (a time range), and --big flows. Synthetic flows (test/fakes/flow-batch.ts): a pool of batches
// made before the clock starts, each write a fresh copy moved in time (the copy is timed: it
// stands for the decoder handing over new buffers).
// With --postgres N: the PostgreSQL sink against a server it starts (test/lab/postgres.ts) takes
// N flows fed as fast as its queue allows (rows/s), then N more without waiting: what its queue
// cannot hold is dropped and counted, never blocking (written + dropped = offered).
// Run: node dist/bench/flow-store-bench.js [--rows 1000000] [--big 10000000] [--batch 10000] [--chunk 1000] [--postgres 0]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { copyFlowBatch } from '../src/flows/store/batch-transfer.js';
import { createPostgresFlowSink } from '../src/flows/store/postgres.js';
import { openSqliteFlowStore, type SqliteFlowStore } from '../src/flows/store/sqlite.js';
import type { FlowQuerySpec } from '../src/flows/types.js';
import { createLogger } from '../src/lib/logger.js';
import type { FlowBatch } from '../src/packet/flow/types.js';
import { syntheticBatch } from '../test/fakes/flow-batch.js';
import { startPostgres } from '../test/lab/postgres.js';
import { peakRssKb } from './proc-stats.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    /** flows for the large query set (0: skip) */
    big: { type: 'string', default: '10000000' },
    batch: { type: 'string', default: '10000' },
    /** flows per FlowBatch handed to write() (what one decoder task yields) */
    chunk: { type: 'string', default: '1000' },
    /** flows for the PostgreSQL sink (0: skip) */
    postgres: { type: 'string', default: '0' },
  },
});
const CHUNK = Number(args.chunk);
const BATCH = Number(args.batch);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const POOL: FlowBatch[] = Array.from({ length: 100 }, (_, i) => syntheticBatch(CHUNK, i, 0, 60_000));
const HOUR = 3_600_000;

interface Ingest {
  flows: number;
  seconds: number;
  flowsPerSecond: number;
  cpuSecondsPerMillion: number;
  mbPerMillion: number;
}

/** Writes `flows` flows spread over `hours` hours ending now; the store stays open. */
async function ingest(path: string, flows: number, hours: number): Promise<{ store: SqliteFlowStore; result: Ingest; now: number }> {
  const now = Date.now();
  const maxQueued = Math.max(100_000, BATCH * 20);
  const store = await openSqliteFlowStore({
    config: { path, retention: { max_age: 0, max_bytes: 0 }, batch_size: BATCH, flush_interval: 1 },
    log: createLogger((l) => process.stderr.write(`${l}\n`), 'warn'),
    maxQueuedRows: maxQueued,
  });
  const batches = Math.ceil(flows / CHUNK);
  const span = hours * HOUR - 60_000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    // feed as fast as the bounded queue takes it: never drop, never block
    while (store.stats().queued + CHUNK > maxQueued) await sleep(1);
    const b = copyFlowBatch(POOL[i % POOL.length]!);
    const shift = now - hours * HOUR + Math.floor((span * i) / batches);
    for (let k = 0; k < b.count; k++) {
      b.endMs[k]! += shift;
      b.startMs[k]! += shift;
    }
    store.write(b);
  }
  await store.flush(600_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = store.stats();
  const total = batches * CHUNK;
  if (s.written !== total || s.dropped !== 0) throw new Error(`written ${s.written}, dropped ${s.dropped} of ${total}`); // uncoded-error: bench
  const bytes = statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  return {
    store,
    now,
    result: {
      flows: total,
      seconds: Number(seconds.toFixed(2)),
      flowsPerSecond: Math.round(total / seconds),
      cpuSecondsPerMillion: Number((((cpu.user + cpu.system) / 1e6) * (1e6 / total)).toFixed(2)),
      mbPerMillion: Number(((bytes / total) * 1e6 / (1 << 20)).toFixed(1)),
    },
  };
}

interface Latency {
  set: string;
  query: string;
  matched: number;
  firstMs: number;
  bestOf3Ms: number;
}

async function latencies(store: SqliteFlowStore, set: string, fromMs: number, toMs: number): Promise<Latency[]> {
  const queries: Record<string, Omit<FlowQuerySpec, 'fromMs' | 'toMs'>> = {
    'top-10 src by bytes': { filter: {}, groupBy: 'src', orderBy: 'bytes', limit: 10 },
    'top-10 conversations': { filter: {}, groupBy: 'conversation', orderBy: 'bytes', limit: 10 },
    'top-10 dst_port, src /16 + tcp': { filter: { src: ['198.18.0.0/16'], proto: [6] }, groupBy: 'dst_port', orderBy: 'flows', limit: 10 },
    '20 newest flows': { filter: {}, orderBy: 'flows', limit: 20 },
  };
  const out: Latency[] = [];
  for (const [query, q] of Object.entries(queries)) {
    const times: number[] = [];
    let matched = 0;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const r = await store.query({ fromMs, toMs, ...q }, 300_000);
      times.push(performance.now() - t0);
      matched = r.totals.flows;
    }
    out.push({ set, query, matched, firstMs: Math.round(times[0]!), bestOf3Ms: Math.round(Math.min(...times)) });
  }
  return out;
}

/** The PostgreSQL sink: paced (no drop) rows/s, then an unpaced burst whose drops are counted. */
async function postgres(flows: number): Promise<Record<string, number>> {
  const server = await startPostgres();
  const log = createLogger((l) => process.stderr.write(`${l}\n`), 'warn');
  const maxQueued = Math.max(100_000, BATCH * 20);
  const sink = createPostgresFlowSink({ config: { url: server.url, partition_interval: 3600, retention: { max_age: 0, max_bytes: 0 }, batch_size: BATCH, flush_interval: 1 }, log, maxQueuedRows: maxQueued });
  try {
    const batches = Math.ceil(flows / CHUNK);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) {
      while (sink.stats().queued + CHUNK > maxQueued) await sleep(1);
      sink.write(POOL[i % POOL.length]!); // the sink copies what it keeps
    }
    await sink.flush(600_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const paced = sink.stats();
    const t1 = performance.now();
    for (let i = 0; i < batches; i++) sink.write(POOL[i % POOL.length]!);
    const offerSeconds = (performance.now() - t1) / 1000;
    await sink.flush(600_000);
    const after = sink.stats();
    return {
      flows: batches * CHUNK,
      rowsPerSecond: Math.round(paced.written / seconds),
      clientCpuSecondsPerMillion: Number((((cpu.user + cpu.system) / 1e6) * (1e6 / paced.written)).toFixed(2)),
      pacedDropped: paced.dropped,
      burstOffered: batches * CHUNK,
      burstOfferSeconds: Number(offerSeconds.toFixed(2)),
      burstWritten: after.written - paced.written,
      burstDropped: after.dropped - paced.dropped,
    };
  } finally {
    await sink.close(60_000);
    await server.destroy();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'wp-flowbench-'));
try {
  const ingests: Ingest[] = [];
  const lat: Latency[] = [];
  const small = await ingest(join(dir, 'small.db'), Number(args.rows), 1);
  ingests.push(small.result);
  lat.push(...(await latencies(small.store, `${small.result.flows} flows`, 0, small.now + 1)));
  lat.push(...(await latencies(small.store, 'half (30 min)', small.now - HOUR / 2, small.now + 1)));
  await small.store.close(60_000);
  if (Number(args.big) > 0) {
    const big = await ingest(join(dir, 'big.db'), Number(args.big), 10);
    ingests.push(big.result);
    lat.push(...(await latencies(big.store, `${big.result.flows} flows`, 0, big.now + 1)));
    await big.store.close(120_000);
  }
  console.table(ingests);
  console.table(lat);
  if (Number(args.postgres) > 0) console.table([await postgres(Number(args.postgres))]);
  process.stdout.write(`batch ${BATCH} flows per transaction, ${CHUNK} per write; peak RSS ${Math.round((peakRssKb(process.pid) ?? 0) / 1024)} MiB; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
