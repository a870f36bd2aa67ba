/** The flow collector service over loopback: decoding, sinks, metrics, template persistence across a restart. */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Registry } from 'prom-client';
import type { FlowsConfig } from '../../../src/config/types.js';
import { createWorkerPool } from '../../../src/workers/pool.js';
import { createFlowsService, TEMPLATES_FILE, type FlowsService } from '../../../src/flows/service.js';
import type { FlowSink } from '../../../src/flows/types.js';
import type { FlowBatch } from '../../../src/packet/flow/types.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { dataSet, ipfixDatagram, makeFlows, v5Datagram, V4_FIELDS } from '../../fakes/flow-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-flows-service-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: FlowsConfig = {
  enabled: true,
  listen: [{ address: '127.0.0.1', port: 0 }, { address: '::1', port: 0 }],
  receive_buffer_bytes: 1 << 20,
  decode: 'inline',
  state_dir: join(dir, 'state'),
  max_exporters: 16,
  max_templates: 64,
  early_data: { max_datagrams: 10, max_age: 60 },
  top: { window: 10, n: 3, max_series: 100 },
  sqlite: null,
  postgres: null,
};

function memorySink(): FlowSink & { rows: number; bytes: number } {
  const s = {
    name: 'memory', rows: 0, bytes: 0,
    write(b: FlowBatch) {
      s.rows += b.count;
      for (let i = 0; i < b.count; i++) s.bytes += b.bytes[i]!;
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ written: s.rows, dropped: 0, expired: 0, queued: 0, sizeBytes: 0 }),
  };
  return s;
}

function ports(svc: FlowsService): number[] {
  return String(svc.summary().flowListen).split(',').map((l) => Number(l.slice(l.lastIndexOf(':') + 1)));
}

async function send(port: number, address: string, datagrams: readonly Uint8Array[]): Promise<void> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  for (const d of datagrams) await new Promise<void>((resolve, reject) => s.send(d, port, address, (e) => (e ? reject(e) : resolve())));
  s.close();
}

/** waits (real time) for `ok`, moving the fake clock so that decoded rows are handed over */
async function until(clock: FakeClock, what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) {
    await new Promise((r) => setTimeout(r, 10));
    await clock.advance(100);
  }
  assert.ok(ok(), `timed out waiting for ${what}`);
}

const IPH = { domain: 1, exportSecs: 1_700_000_000 };
const TEMPLATE = { kind: 'template' as const, templates: [{ id: 256, fields: V4_FIELDS }] };

for (const receiver of ['recvmmsg', 'dgram'] as const) void test(`flows service (${receiver}): receives on IPv4 and IPv6, feeds sinks and metrics, keeps templates across a restart`, async () => {
  const config = { ...CONFIG, decode: 'pool' as const, state_dir: join(dir, `state-${receiver}`) };
  const clock = new FakeClock();
  const registry = new Registry();
  const sink = memorySink();
  const { log } = memoryLogger();
  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  after(() => pool.close());
  const svc = createFlowsService({ config, clock, log, registry, paths: { procfs: '/proc' }, sinks: () => [sink], pool, receiver });
  await svc.start();
  after(() => svc.stop(0));
  const [p4, p6] = ports(svc);
  const flows = makeFlows(30);
  const bytes = flows.reduce((s, f) => s + f.bytes, 0);
  await send(p4!, '127.0.0.1', [ipfixDatagram({ ...IPH, seq: 0 }, [dataSet(256, V4_FIELDS, flows)]), ipfixDatagram({ ...IPH, seq: 30 }, [TEMPLATE])]);
  await send(p6!, '::1', [v5Datagram({ seq: 0, uptimeMs: 0, unixSecs: 0 }, flows), new Uint8Array([1, 2, 3])]);
  await until(clock, '60 flows', () => sink.rows === 60);
  assert.equal(sink.bytes, 2 * bytes);
  await clock.advance(10_000 - (clock.monoMs() % 10_000)); // a top window, a template save, kernel drops read
  const text = await registry.metrics();
  assert.match(text, /wireprobe_flow_flows_total\{exporter="127.0.0.1"\} 30/);
  assert.match(text, /wireprobe_flow_flows_total\{exporter="::1"\} 30/);
  assert.match(text, new RegExp(`wireprobe_flow_bytes_total\\{exporter="::1"\\} ${bytes}`));
  assert.match(text, /wireprobe_flow_datagrams_total\{exporter="127.0.0.1",version="10"\} 2/);
  assert.match(text, /wireprobe_flow_early_data_decoded_total\{exporter="127.0.0.1"\} 1/);
  assert.match(text, /wireprobe_flow_decode_errors_total\{exporter="::1",reason="truncated"\} 1/);
  assert.match(text, /wireprobe_flow_templates\{exporter="127.0.0.1"\} 1/);
  assert.match(text, new RegExp(`wireprobe_flow_socket_kernel_drops_total\\{listen="127.0.0.1:${p4}"\\} 0`));
  assert.match(text, new RegExp(`wireprobe_flow_socket_errors_total\\{listen="\\[::1\\]:${p6}"\\} 0`));
  assert.match(text, new RegExp(`wireprobe_flow_socket_receiver\\{listen="127.0.0.1:${p4}",receiver="${receiver}"\\} 1`));
  assert.match(text, new RegExp(`wireprobe_flow_socket_receive_buffer_bytes\\{listen="\\[::1\\]:${p6}"\\} \\d+`));
  assert.match(text, new RegExp(`wireprobe_flow_top_bytes\\{by="exporter",exporter="",key="127.0.0.1"\\} ${bytes}`));
  assert.match(text, /wireprobe_flow_sink_written_total\{sink="memory"\} 60/);
  assert.match(text, /wireprobe_flow_decode_jobs_total\{where="pool"\} [1-9]/);
  await svc.stop(100);
  assert.ok(existsSync(join(config.state_dir, TEMPLATES_FILE)));

  // a restart decodes data at once with the saved template; decode "inline" leaves the pool alone
  const sink2 = memorySink();
  const registry2 = new Registry();
  const svc2 = createFlowsService({ config: { ...config, decode: 'inline' }, clock, log, registry: registry2, paths: { procfs: '/proc' }, sinks: () => [sink2], pool, receiver });
  await svc2.start();
  after(() => svc2.stop(0));
  await send(ports(svc2)[0]!, '127.0.0.1', [ipfixDatagram({ ...IPH, seq: 60 }, [dataSet(256, V4_FIELDS, flows)])]);
  await until(clock, '30 flows after the restart', () => sink2.rows === 30);
  const text2 = await registry2.metrics();
  assert.match(text2, /wireprobe_flow_decode_jobs_total\{where="pool"\} 0/);
  assert.match(text2, /wireprobe_flow_decode_jobs_total\{where="inline"\} [1-9]/);
  await svc2.stop(100);
});

void test('flows service: a port in use fails the start with a coded error', async () => {
  const blocker = createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', r));
  const config = { ...CONFIG, listen: [{ address: '127.0.0.1', port: blocker.address().port }], state_dir: join(dir, 'state2') };
  const svc = createFlowsService({ config, clock: new FakeClock(), log: memoryLogger().log, registry: new Registry(), paths: { procfs: '/proc' }, sinks: () => [], pool: null });
  await assert.rejects(svc.start(), { code: 'NET_ERR_SOCKET' });
  await svc.stop(0);
  blocker.close();
});

void test('flows service: decodes into the buffers a transferring sink hands back', async () => {
  const clock = new FakeClock();
  const spare = new ArrayBuffer(1 << 16);
  const seen: ArrayBuffer[] = [];
  let offered = false;
  const sink: FlowSink = {
    ...memorySink(),
    name: 'transfer',
    write(b: FlowBatch) {
      const buf = b.bytes.buffer as ArrayBuffer;
      seen.push(buf === spare ? spare : structuredClone(buf, { transfer: [buf] }));
      offered = true;
    },
    takeSpare: () => {
      if (!offered) return undefined;
      offered = false;
      return spare;
    },
  };
  const config = { ...CONFIG, listen: [{ address: '127.0.0.1', port: 0 }], state_dir: join(dir, 'state-spare') };
  const svc = createFlowsService({ config, clock, log: memoryLogger().log, registry: new Registry(), paths: { procfs: '/proc' }, sinks: () => [sink], pool: null });
  await svc.start();
  after(() => svc.stop(0));
  const flows = makeFlows(30);
  await send(ports(svc)[0]!, '127.0.0.1', [ipfixDatagram({ ...IPH, seq: 0 }, [TEMPLATE, dataSet(256, V4_FIELDS, flows)])]);
  await until(clock, 'the first batch', () => seen.length === 1);
  assert.notEqual(seen[0], spare);
  await send(ports(svc)[0]!, '127.0.0.1', [ipfixDatagram({ ...IPH, seq: 30 }, [dataSet(256, V4_FIELDS, flows)])]);
  await until(clock, 'the second batch', () => seen.length === 2);
  assert.equal(seen[1], spare, 'the second batch was decoded into the sink\'s spare');
  assert.equal(svc.flowsHandedOver(), 60);
  await svc.stop(100);
});
