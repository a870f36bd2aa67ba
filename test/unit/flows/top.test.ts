import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowDecoder } from '../../../src/packet/flow/decoder.js';
import { OTHERS, TopTalkers, type TopEntry } from '../../../src/flows/top.js';
import { makeFlows, v5Datagram, type FlowSpec } from '../../fakes/flow-builder.js';
import { flowBatch, type FlowRow } from '../../fakes/flow-batch.js';
import { rng } from '../../fakes/rng.js';

const LIMITS = { maxExporters: 8, maxTemplates: 8, earlyMaxDatagrams: 0, earlyMaxAgeMs: 0 };

function batchOf(flows: readonly FlowSpec[], exporter = '192.0.2.1') {
  const d = new FlowDecoder(LIMITS);
  for (let i = 0; i < flows.length; i += 30) d.decode(v5Datagram({ seq: i, uptimeMs: 0, unixSecs: 0 }, flows.slice(i, i + 30)), exporter, 0);
  return d.decodeQueued();
}

function sumOf(entries: readonly TopEntry[], by: string, exporter = ''): [number, number, number] {
  const g = entries.filter((e) => e.by === by && e.exporter === exporter);
  return [g.reduce((s, e) => s + e.flows, 0), g.reduce((s, e) => s + e.bytes, 0), g.reduce((s, e) => s + e.packets, 0)];
}

void test('top talkers: ranked by bytes, others keeps each group exact, interfaces per exporter', () => {
  const top = new TopTalkers({ n: 2, maxSeries: 1000, maxKeys: 1000 });
  const flows: FlowSpec[] = [
    ...makeFlows(50),
    { src: '198.18.9.9', dst: '198.19.0.1', srcPort: 5, dstPort: 443, proto: 6, bytes: 1e6, packets: 700, inIf: 7, outIf: 8 },
    { src: '198.18.9.9', dst: '198.19.0.2', srcPort: 5, dstPort: 443, proto: 6, bytes: 5e5, packets: 300, inIf: 7, outIf: 8 },
  ];
  top.add(batchOf(flows));
  top.add(batchOf(makeFlows(10, 3), '2001:db8::1'));
  assert.deepEqual(top.entries(), [], 'nothing before the first window closes');
  top.roll();
  const e = top.entries();
  const all = [...flows, ...makeFlows(10, 3)];
  const total: [number, number, number] = [all.length, all.reduce((s, f) => s + f.bytes, 0), all.reduce((s, f) => s + f.packets, 0)];
  for (const by of ['src', 'dst', 'conversation', 'proto', 'src_port', 'dst_port', 'exporter']) assert.deepEqual(sumOf(e, by), total, by);
  const src = e.filter((x) => x.by === 'src');
  assert.deepEqual(src.map((x) => x.key), ['198.18.9.9', src[1]!.key, OTHERS]);
  assert.equal(src[0]!.bytes, 1.5e6);
  assert.equal(e.find((x) => x.by === 'conversation')!.key, '198.18.9.9 -> 198.19.0.1');
  assert.equal(e.find((x) => x.by === 'in_if' && x.exporter === '192.0.2.1')!.key, '7');
  assert.deepEqual(sumOf(e, 'in_if', '192.0.2.1'), [52, flows.reduce((s, f) => s + f.bytes, 0), flows.reduce((s, f) => s + f.packets, 0)]);
  assert.equal(e.filter((x) => x.by === 'out_if' && x.exporter === '2001:db8::1').length, 3);
  top.roll();
  assert.deepEqual(top.entries(), [], 'an empty window publishes nothing');
});

void test('top talkers: the series cap holds; keys beyond maxKeys still count in others', () => {
  const top = new TopTalkers({ n: 5, maxSeries: 20, maxKeys: 3 });
  const flows = makeFlows(100);
  top.add(batchOf(flows));
  top.roll();
  const e = top.entries();
  assert.ok(e.length <= 20, `${e.length} entries`);
  assert.deepEqual(sumOf(e, 'src'), [100, flows.reduce((s, f) => s + f.bytes, 0), flows.reduce((s, f) => s + f.packets, 0)]);
  assert.equal(e.filter((x) => x.by === 'src').length, 4, 'three keys kept and others');
});

/** what the top-N of one group must be: keys kept in the order first seen up to maxKeys, ranked by bytes, the rest in others */
function oracle(rows: readonly { key: string; bytes: number; packets: number }[], n: number, maxKeys: number): { key: string; flows: number; bytes: number; packets: number }[] {
  const m = new Map<string, [number, number, number]>();
  const total = [0, 0, 0];
  for (const r of rows) {
    total[0]!++;
    total[1]! += r.bytes;
    total[2]! += r.packets;
    let c = m.get(r.key);
    if (c === undefined) {
      if (m.size >= maxKeys) continue;
      m.set(r.key, (c = [0, 0, 0]));
    }
    c[0]++;
    c[1] += r.bytes;
    c[2] += r.packets;
  }
  const best = [...m].sort((a, b) => b[1][1] - a[1][1]).slice(0, n).map(([key, [flows, bytes, packets]]) => ({ key, flows, bytes, packets }));
  const rest = best.reduce((s, e) => [s[0]! - e.flows, s[1]! - e.bytes, s[2]! - e.packets], total);
  return [...best, { key: OTHERS, flows: rest[0]!, bytes: rest[1]!, packets: rest[2]! }];
}

void test('top talkers: sources and destinations tallied through their conversations give the per-flow result, budget spent or not', () => {
  const r = rng(5);
  const addr = (i: number): string => (i % 3 === 0 ? `2001:db8::${(i + 1).toString(16)}` : `198.18.0.${i}`);
  for (const maxKeys of [12, 40, 1000]) {
    const top = new TopTalkers({ n: 5, maxSeries: 1000, maxKeys });
    const rows: FlowRow[] = [];
    for (let b = 0; b < 3; b++) {
      const batch = Array.from({ length: 300 }, () => ({ src: addr(r.int(30)), dst: addr(r.int(20)), bytes: 1 + r.int(1e9), packets: 1 + r.int(1000), endMs: 0 }));
      rows.push(...batch);
      top.add(flowBatch(batch));
    }
    top.roll();
    const e = top.entries();
    const got = (by: string): { key: string; flows: number; bytes: number; packets: number }[] =>
      e.filter((x) => x.by === by).map(({ key, flows, bytes, packets }) => ({ key, flows, bytes, packets }));
    assert.deepEqual(got('src'), oracle(rows.map((x) => ({ key: x.src, bytes: x.bytes!, packets: x.packets! })), 5, maxKeys), `src, maxKeys ${maxKeys}`);
    assert.deepEqual(got('dst'), oracle(rows.map((x) => ({ key: x.dst, bytes: x.bytes!, packets: x.packets! })), 5, maxKeys), `dst, maxKeys ${maxKeys}`);
    assert.deepEqual(got('conversation'), oracle(rows.map((x) => ({ key: `${x.src} -> ${x.dst}`, bytes: x.bytes!, packets: x.packets! })), 5, maxKeys), `conversation, maxKeys ${maxKeys}`);
  }
});
