// The wireprobe flow collector alone, for bench/flow-bench.ts: the flows service on
// 127.0.0.1:--port (0: any), decoding in a worker pool of one thread (--pool on, the default
// here, flows.decode "pool") or on the main thread (--pool off: "inline", the app's default), its sockets read in batches by the addon (--receiver dgram:
// Node's dgram, the fallback), feeding the real SQLite store (--store sqlite, the default,
// in a temporary directory, schema defaults) or a sink that counts rows (--store none); prints
// `{"port":N}` once listening, then `{"flows":F,"datagrams":D,"stored":S,"storeDropped":X}`
// every 200 ms, and stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createFlowsService } from '../src/flows/service.js';
import { createFlowStores } from '../src/flows/stores.js';
import type { FlowSink } from '../src/flows/types.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { createWorkerPool } from '../src/workers/pool.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' }, rcvbuf: { type: 'string', default: '33554432' }, store: { type: 'string', default: 'sqlite' }, pool: { type: 'string', default: 'on' },
    receiver: { type: 'string', default: 'recvmmsg' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'wfp-flow-bench-'));
const log = createLogger((l) => process.stderr.write(`${l}\n`), 'warn');
let rows = 0;
const counting: FlowSink = {
  name: 'count', write: (b) => void (rows += b.count), flush: () => Promise.resolve(), close: () => Promise.resolve(),
  stats: () => ({ written: rows, dropped: 0, expired: 0, queued: 0, sizeBytes: 0 }),
};
const stores = createFlowStores(log);
const registry = new Registry();
const pool = args.pool === 'off' ? null : createWorkerPool({ minThreads: 1, maxThreads: 1 });
const sqlite = args.store === 'sqlite'
  ? { path: join(dir, 'flows.db'), retention: { max_age: 604_800, max_bytes: 10_737_418_240 }, batch_size: 10_000, flush_interval: 1 }
  : null;
let sinks: FlowSink[] = [];
const svc = createFlowsService({
  config: {
    enabled: true, listen: [{ address: '127.0.0.1', port: Number(args.port) }], receive_buffer_bytes: Number(args.rcvbuf), decode: pool === null ? 'inline' : 'pool', state_dir: dir,
    max_exporters: 1024, max_templates: 4096, early_data: { max_datagrams: 1000, max_age: 1800 }, top: { window: 60, n: 10, max_series: 1000 },
    sqlite, postgres: null,
  },
  clock: systemClock, log, registry, paths: { procfs: '/proc' }, pool, receiver: args.receiver === 'dgram' ? 'dgram' : 'recvmmsg',
  sinks: async (c) => {
    sinks = sqlite === null ? [counting] : await stores.open(c);
    return sinks;
  },
});
await svc.start();
const listen = String(svc.summary().flowListen);
process.stdout.write(`${JSON.stringify({ port: Number(listen.slice(listen.lastIndexOf(':') + 1)) })}\n`);
const datagrams = async (): Promise<number> => {
  const m = (await registry.getSingleMetric('wireprobe_flow_datagrams_total')?.get())?.values ?? [];
  return m.reduce((s, v) => s + v.value, 0);
};
const report = async (): Promise<void> => {
  const s = sinks[0]?.stats();
  const line = { flows: svc.flowsHandedOver(), datagrams: await datagrams(), stored: s?.written ?? 0, storeDropped: s?.dropped ?? 0 };
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const timer = setInterval(() => void report(), 200);
process.once('SIGTERM', () => {
  clearInterval(timer);
  void svc.stop(10_000).then(() => pool?.close()).then(() => rmSync(dir, { recursive: true, force: true }));
});
