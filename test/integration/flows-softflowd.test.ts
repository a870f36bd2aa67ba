/**
 * softflowd replays pcap files of known flows to the flow collector on loopback, as NetFlow v5,
 * v9 and IPFIX: the per-exporter totals and the per-conversation top-talker series equal what
 * the pcap holds, for each version, decoded on the collector's thread (flows.decode inline, the
 * default) and, for v9 and IPFIX, in the worker pool.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import type { FlowsConfig } from '../../src/config/types.js';
import { createWorkerPool } from '../../src/workers/pool.js';
import { createFlowsService } from '../../src/flows/service.js';
import type { FlowSink } from '../../src/flows/types.js';
import { flowFrame, type PcapFlow } from '../fakes/flow-pcap.js';
import { FakeClock } from '../fakes/clock.js';
import { memoryLogger } from '../fakes/logger.js';
import { LINKTYPE_ETHERNET } from '../lab/ip-packet.js';
import { writePcap } from '../lab/pcap-file.js';
import { requireTools } from '../lab/require-tools.js';

const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'wpt-flows-softflowd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function flowsOf(v6: boolean): PcapFlow[] {
  const flows: PcapFlow[] = [];
  for (let i = 0; i < 24; i++) {
    flows.push({
      src: `198.18.${i >> 4}.${(i & 15) + 1}`, dst: `198.19.7.${i + 1}`, proto: i % 3 === 0 ? 17 : 6,
      srcPort: 20000 + i, dstPort: [53, 80, 443][i % 3]!, packets: 1 + ((i * 7) % 13), size: 60 + ((i * 53) % 1400),
    });
  }
  if (v6) {
    flows.push({ src: '2001:db8::10', dst: '2001:db8:1::20', proto: 17, srcPort: 5353, dstPort: 53, packets: 5, size: 200 });
    flows.push({ src: '2001:db8::11', dst: '2001:db8:1::21', proto: 6, srcPort: 40000, dstPort: 443, packets: 9, size: 1280 });
  }
  return flows;
}

function pcapOf(flows: readonly PcapFlow[]): Uint8Array {
  const packets: { tsNs: bigint; data: Uint8Array }[] = [];
  let t = 1_700_000_000_000_000_000n;
  let seq = 0;
  const rounds = Math.max(...flows.map((f) => f.packets));
  for (let r = 0; r < rounds; r++) {
    for (const f of flows) {
      if (r >= f.packets) continue;
      packets.push({ tsNs: t, data: flowFrame(f, seq++) });
      t += 1_000_000n;
    }
  }
  return writePcap(LINKTYPE_ETHERNET, packets, { nanosecond: false });
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  assert.ok(line, `no ${name}{${labels}}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

const CONFIG: FlowsConfig = {
  enabled: true,
  listen: [{ address: '127.0.0.1', port: 0 }],
  receive_buffer_bytes: 1 << 22,
  decode: 'inline',
  state_dir: '',
  max_exporters: 16,
  max_templates: 64,
  early_data: { max_datagrams: 100, max_age: 60 },
  top: { window: 10, n: 50, max_series: 10_000 },
  sqlite: null,
  postgres: null,
};

for (const [version, decode] of [[5, 'inline'], [9, 'inline'], [10, 'inline'], [9, 'pool'], [10, 'pool']] as const) {
  void test(`softflowd NetFlow ${version === 10 ? 'IPFIX' : `v${version}`}, decoded ${decode}: per-flow totals in the metrics equal the pcap's`, async () => {
    requireTools([{ bin: 'softflowd', pkg: 'softflowd' }]);
    const flows = flowsOf(version !== 5);
    const pcap = join(dir, `v${version}.pcap`);
    writeFileSync(pcap, pcapOf(flows));
    const clock = new FakeClock();
    const registry = new Registry();
    let rows = 0;
    const sink: FlowSink = {
      name: 'count', write: (b) => void (rows += b.count), flush: () => Promise.resolve(), close: () => Promise.resolve(),
      stats: () => ({ written: rows, dropped: 0, expired: 0, queued: 0, sizeBytes: 0 }),
    };
    const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
    after(() => pool.close());
    const svc = createFlowsService({
      config: { ...CONFIG, decode, state_dir: join(dir, `state-v${version}-${decode}`) }, clock, log: memoryLogger().log, registry, paths: { procfs: '/proc' }, sinks: () => [sink], pool,
    });
    await svc.start();
    after(() => svc.stop(0));
    const listen = String(svc.summary().flowListen);
    const port = listen.slice(listen.lastIndexOf(':') + 1);
    await execFileP('softflowd', ['-d', '-r', pcap, '-n', `127.0.0.1:${port}`, '-v', String(version)], { timeout: 20_000 });
    for (let i = 0; i < 300 && rows < flows.length; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await clock.advance(100); // queued data sets are decoded every 100 ms
    }
    assert.equal(rows, flows.length, 'every flow decoded');
    assert.match(await registry.metrics(), new RegExp(`wireprobe_flow_decode_jobs_total\\{where="${decode}"\\} [1-9]`));
    await clock.advance(10_000 - (clock.monoMs() % 10_000)); // closes the top window
    const text = await registry.metrics();
    const e = 'exporter="127.0.0.1"';
    assert.equal(metric(text, 'wireprobe_flow_flows_total', e), flows.length);
    assert.equal(metric(text, 'wireprobe_flow_packets_total', e), flows.reduce((s, f) => s + f.packets, 0));
    assert.equal(metric(text, 'wireprobe_flow_bytes_total', e), flows.reduce((s, f) => s + f.packets * f.size, 0));
    assert.doesNotMatch(text, /wireprobe_flow_sequence_lost_total\{[^}]*\} [1-9]/);
    assert.doesNotMatch(text, /wireprobe_flow_decode_errors_total\{/);
    for (const f of flows) {
      const key = `by="conversation",exporter="",key="${f.src} -> ${f.dst}"`;
      assert.equal(metric(text, 'wireprobe_flow_top_bytes', key), f.packets * f.size, `${f.src} -> ${f.dst} bytes`);
      assert.equal(metric(text, 'wireprobe_flow_top_packets', key), f.packets, `${f.src} -> ${f.dst} packets`);
    }
    await svc.stop(0);
  });
}
