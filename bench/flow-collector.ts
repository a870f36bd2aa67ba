// The wireprobe flow collector alone, for bench/flow-bench.ts: the flows service on
// 127.0.0.1:--port (0: any) with a sink that counts rows; prints `{"port":N}` once listening,
// then `{"flows":F,"datagrams":D}` every 200 ms, and stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createFlowsService } from '../src/flows/service.js';
import type { FlowSink } from '../src/flows/types.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'rcvbuf': { type: 'string', default: '33554432' } } });
const dir = mkdtempSync(join(tmpdir(), 'wpt-flow-bench-'));
let rows = 0;
const sink: FlowSink = {
  name: 'count', write: (b) => void (rows += b.count), flush: () => Promise.resolve(), close: () => Promise.resolve(),
  stats: () => ({ written: rows, dropped: 0, expired: 0, queued: 0, sizeBytes: 0 }),
};
const registry = new Registry();
const svc = createFlowsService({
  config: {
    enabled: true, listen: [{ address: '127.0.0.1', port: Number(args.port) }], receive_buffer_bytes: Number(args.rcvbuf), state_dir: dir,
    max_exporters: 1024, max_templates: 4096, early_data: { max_datagrams: 1000, max_age: 1800 }, top: { window: 60, n: 10, max_series: 1000 },
    sqlite: null, postgres: null,
  },
  clock: systemClock, log: createLogger((l) => process.stderr.write(`${l}\n`), 'warn'), registry, paths: { procfs: '/proc' }, sinks: () => [sink],
});
await svc.start();
const listen = String(svc.summary().flowListen);
process.stdout.write(`${JSON.stringify({ port: Number(listen.slice(listen.lastIndexOf(':') + 1)) })}\n`);
const datagrams = async (): Promise<number> => {
  const m = (await registry.getSingleMetric('wireprobe_flow_datagrams_total')?.get())?.values ?? [];
  return m.reduce((s, v) => s + v.value, 0);
};
const timer = setInterval(() => void datagrams().then((d) => process.stdout.write(`${JSON.stringify({ flows: svc.flowsHandedOver(), datagrams: d })}\n`)), 200);
process.once('SIGTERM', () => {
  clearInterval(timer);
  void svc.stop(1000).then(() => rmSync(dir, { recursive: true, force: true }));
});
