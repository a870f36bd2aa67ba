import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../../src/lib/address.js';
import { FlowDecoder, type DecoderLimits, type ExporterState } from '../../../src/packet/flow/decoder.js';
import type { FlowBatch } from '../../../src/packet/flow/types.js';
import {
  dataSet, flowValues, ipfixDatagram, makeFlows, v5Datagram, v9Datagram, V4_FIELDS, V6_FIELDS, type Field, type FlowSpec,
} from '../../fakes/flow-builder.js';

const LIMITS: DecoderLimits = { maxExporters: 16, maxTemplates: 64, earlyMaxDatagrams: 4, earlyMaxAgeMs: 60_000 };
const E1 = '192.0.2.1';
const E2 = '2001:db8::2';
const T0 = 1_700_000_000_000;

function addr(col: Uint8Array, i: number): string {
  const v4 = col.subarray(i * 16, i * 16 + 10).every((b) => b === 0) && col[i * 16 + 10] === 0xff && col[i * 16 + 11] === 0xff;
  return v4 ? formatIp(col, i * 16 + 12, 4) : formatIp(col, i * 16, 16);
}

interface Row { exporter: string; version: number; domain: number; src: string; dst: string; srcPort: number; dstPort: number; proto: number; bytes: number; packets: number; rawBytes: number; rawPackets: number; rate: number; inIf: number; outIf: number; startMs: number; endMs: number }

function rows(b: FlowBatch): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < b.count; i++) {
    out.push({
      exporter: b.exporters[b.exporter[i]!]!, version: b.version[i]!, domain: b.domain[i]!, src: addr(b.src, i), dst: addr(b.dst, i),
      srcPort: b.srcPort[i]!, dstPort: b.dstPort[i]!, proto: b.proto[i]!, bytes: b.bytes[i]!, packets: b.packets[i]!,
      rawBytes: b.rawBytes[i]!, rawPackets: b.rawPackets[i]!, rate: b.samplingRate[i]!, inIf: b.inIf[i]!, outIf: b.outIf[i]!,
      startMs: b.startMs[i]!, endMs: b.endMs[i]!,
    });
  }
  return out;
}

function exporter(d: FlowDecoder, address: string): ExporterState {
  const st = [...d.exporters()].find((e) => e.address === address);
  assert.ok(st, `no state for ${address}`);
  return st;
}

function sameFlows(got: Row[], want: readonly FlowSpec[], rate = 1): void {
  assert.equal(got.length, want.length);
  got.forEach((r, i) => {
    const f = want[i]!;
    assert.deepEqual(
      [r.src, r.dst, r.srcPort, r.dstPort, r.proto, r.rawBytes, r.rawPackets, r.bytes, r.packets, r.rate],
      [f.src, f.dst, f.srcPort, f.dstPort, f.proto, f.bytes, f.packets, f.bytes * rate, f.packets * rate, rate],
    );
  });
}

const V9H = { sourceId: 7, uptimeMs: 100_000, unixSecs: T0 / 1000 };
const IPH = { domain: 3, exportSecs: T0 / 1000 };

void test('v5: fields, times, header sampling and engine domain', () => {
  const d = new FlowDecoder(LIMITS);
  const flows = makeFlows(3);
  d.decode(v5Datagram({ seq: 0, uptimeMs: 10_000, unixSecs: T0 / 1000, unixNsecs: 5_000_000, engineType: 1, engineId: 2, sampling: 0x4000 | 10 }, flows), E1, T0);
  const got = rows(d.decodeQueued());
  sameFlows(got, flows, 10);
  assert.equal(got[0]!.domain, 0x0102);
  assert.equal(got[0]!.version, 5);
  assert.equal(got[0]!.startMs, T0 + 5 - (10_000 - 1000));
  assert.equal(got[0]!.endMs, T0 + 5 - (10_000 - 2000));
  assert.equal(got[1]!.inIf, 2);
  assert.equal(exporter(d, E1).flows, 3);
  assert.equal(exporter(d, E1).bytes, flows.reduce((s, f) => s + f.bytes * 10, 0));
});

void test('v5: sequence counts lost flows; a late datagram is not a loss', () => {
  const d = new FlowDecoder(LIMITS);
  const h = { uptimeMs: 1, unixSecs: 1 };
  d.decode(v5Datagram({ ...h, seq: 0 }, makeFlows(5)), E1, T0);
  d.decode(v5Datagram({ ...h, seq: 5 }, makeFlows(5)), E1, T0);
  d.decode(v5Datagram({ ...h, seq: 17 }, makeFlows(2)), E1, T0); // 7 flows lost
  d.decode(v5Datagram({ ...h, seq: 10 }, makeFlows(2)), E1, T0); // late
  d.decode(v5Datagram({ ...h, seq: 19 }, makeFlows(1)), E1, T0);
  assert.equal(exporter(d, E1).sequenceLost[5], 7);
});

void test('v9: template then data, times from sysUptime, sequence counts export packets', () => {
  const d = new FlowDecoder(LIMITS);
  const flows = makeFlows(4);
  d.decode(v9Datagram({ ...V9H, seq: 1 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }, dataSet(256, V4_FIELDS, flows, 3)]), E1, T0);
  d.decode(v9Datagram({ ...V9H, seq: 2 }, [dataSet(256, V4_FIELDS, flows.slice(0, 1))]), E1, T0);
  d.decode(v9Datagram({ ...V9H, seq: 5 }, [dataSet(256, V4_FIELDS, flows.slice(0, 1))]), E1, T0); // packets 3 and 4 lost
  const got = rows(d.decodeQueued());
  sameFlows(got.slice(0, 4), flows);
  assert.equal(got.length, 6);
  assert.equal(got[0]!.startMs, T0 - (100_000 - 1000));
  assert.equal(got[0]!.endMs, T0 - (100_000 - 2000));
  assert.equal(got[0]!.domain, 7);
  assert.equal(exporter(d, E1).sequenceLost[9], 2);
  assert.equal(exporter(d, E1).templateCount, 1);
});

void test('v9: data before its template is buffered, then decoded when the template comes', () => {
  const d = new FlowDecoder(LIMITS);
  const flows = makeFlows(3);
  d.decode(v9Datagram({ ...V9H, seq: 1 }, [dataSet(300, V4_FIELDS, flows)]), E1, T0);
  assert.equal(d.queue.records, 0);
  assert.equal(exporter(d, E1).earlyBuffered, 1);
  d.decode(v9Datagram({ ...V9H, seq: 2 }, [{ kind: 'template', templates: [{ id: 300, fields: V4_FIELDS }] }]), E1, T0 + 1000);
  sameFlows(rows(d.decodeQueued()), flows);
  assert.equal(exporter(d, E1).earlyBuffered, 0);
  assert.equal(exporter(d, E1).earlyDecoded, 1);
  // the same datagram: data set ahead of its template set
  d.decode(v9Datagram({ ...V9H, seq: 3 }, [dataSet(301, V4_FIELDS, flows), { kind: 'template', templates: [{ id: 301, fields: V4_FIELDS }] }]), E1, T0);
  assert.equal(d.decodeQueued().count, 3);
});

void test('early data: evicted beyond the count and the age limits, counted', () => {
  const d = new FlowDecoder(LIMITS);
  for (let i = 0; i < 6; i++) d.decode(v9Datagram({ ...V9H, seq: i }, [dataSet(400, V4_FIELDS, makeFlows(1))]), E1, T0 + i);
  const st = exporter(d, E1);
  assert.equal(st.earlyBuffered, 4);
  assert.equal(st.earlyEvictedCount, 2);
  d.expire(T0 + 60_004);
  assert.equal(st.earlyBuffered, 2);
  assert.equal(st.earlyEvictedAge, 2);
  d.decode(v9Datagram({ ...V9H, seq: 7 }, [{ kind: 'template', templates: [{ id: 400, fields: V4_FIELDS }] }]), E1, T0 + 60_004);
  assert.equal(d.decodeQueued().count, 2);
});

void test('the same template id from two domains and from two exporters never mixes', () => {
  const d = new FlowDecoder(LIMITS);
  const short: Field[] = [{ id: 8, length: 4 }, { id: 12, length: 4 }, { id: 1, length: 4 }, { id: 2, length: 4 }, { id: 7, length: 2 }, { id: 11, length: 2 }, { id: 4, length: 1 }];
  const f1 = makeFlows(2, 1);
  const f2 = makeFlows(2, 2);
  const tpl = (fields: readonly Field[]) => ({ kind: 'template' as const, templates: [{ id: 256, fields }] });
  d.decode(ipfixDatagram({ ...IPH, domain: 1, seq: 0 }, [tpl(V4_FIELDS)]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, domain: 2, seq: 0 }, [tpl(short)]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, domain: 1, seq: 0 }, [tpl(short)]), E2, T0);
  d.decode(ipfixDatagram({ ...IPH, domain: 1, seq: 0 }, [dataSet(256, V4_FIELDS, f1)]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, domain: 2, seq: 0 }, [dataSet(256, short, f2)]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, domain: 1, seq: 0 }, [dataSet(256, short, f1)]), E2, T0);
  const got = rows(d.decodeQueued());
  sameFlows(got.slice(0, 2), f1);
  sameFlows(got.slice(2, 4), f2);
  sameFlows(got.slice(4, 6), f1);
  assert.deepEqual(got.map((r) => `${r.exporter}/${r.domain}`), [`${E1}/1`, `${E1}/1`, `${E1}/2`, `${E1}/2`, `${E2}/1`, `${E2}/1`]);
  // v9 and IPFIX of one exporter, same id and domain: separate too
  d.decode(v9Datagram({ ...V9H, sourceId: 1, seq: 0 }, [dataSet(256, short, f1)]), E1, T0);
  assert.equal(d.queue.records, 0);
  assert.equal(exporter(d, E1).earlyBuffered, 1);
});

void test('IPFIX: withdrawal, withdraw-all, redefinition', () => {
  const d = new FlowDecoder(LIMITS);
  const flows = makeFlows(2);
  const alt: Field[] = [{ id: 12, length: 4 }, { id: 8, length: 4 }, { id: 2, length: 4 }, { id: 1, length: 4 }, { id: 11, length: 2 }, { id: 7, length: 2 }, { id: 4, length: 1 }];
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }, { id: 257, fields: V4_FIELDS }] }]), E1, T0);
  assert.equal(exporter(d, E1).templateCount, 2);
  // data for the redefined template, ahead of it
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'withdraw', ids: [256] }, dataSet(256, alt, flows)]), E1, T0);
  assert.equal(exporter(d, E1).templateCount, 1);
  assert.equal(d.queue.records, 0);
  assert.equal(exporter(d, E1).earlyBuffered, 1);
  // redefinition: 256 comes back with another layout; the buffered set is decoded with it
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: alt }] }, dataSet(256, alt, flows)]), E1, T0);
  const got = rows(d.decodeQueued());
  sameFlows(got.slice(0, 2), flows);
  sameFlows(got.slice(2), flows);
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'withdraw', ids: [2] }]), E1, T0);
  assert.equal(exporter(d, E1).templateCount, 0);
});

void test('IPFIX: variable-length and enterprise fields skipped by their length, padding, IPv6 and millisecond times', () => {
  const d = new FlowDecoder(LIMITS);
  const fields: Field[] = [{ id: 82, length: 65535 }, ...V6_FIELDS.slice(0, 5), { id: 1000, length: 6, enterprise: 9 }, { id: 5, length: 65535, enterprise: 29305 },
    ...V6_FIELDS.slice(5)];
  const flows: FlowSpec[] = [
    { src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 2, proto: 6, bytes: 1000, packets: 10, startMs: T0 - 5000, endMs: T0 - 1000 },
    { src: '2001:db8::3', dst: '192.0.2.9', srcPort: 3, dstPort: 4, proto: 17, bytes: 2000, packets: 20, startMs: T0 - 4000, endMs: T0 - 2000 },
  ];
  flows[1] = { ...flows[1]!, dst: '::ffff:192.0.2.9' };
  const records = flows.map((f, i) => [
    i === 0 ? 'eth0' : new Uint8Array(300), f.src, f.dst, f.srcPort, f.dstPort, f.proto, new Uint8Array(6), i === 0 ? new Uint8Array(0) : 'x'.repeat(3),
    f.bytes, f.packets, 0, 0, f.startMs!, f.endMs!,
  ]);
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 500, fields }] }, { kind: 'data', id: 500, fields, records, padding: 3 }]), E1, T0);
  const got = rows(d.decodeQueued());
  assert.equal(got.length, 2);
  assert.deepEqual(got.map((r) => [r.src, r.dst, r.bytes, r.packets, r.startMs, r.endMs]), [
    ['2001:db8::1', '2001:db8::2', 1000, 10, T0 - 5000, T0 - 1000],
    ['2001:db8::3', '192.0.2.9', 2000, 20, T0 - 4000, T0 - 2000],
  ]);
  assert.equal(exporter(d, E1).errors.size, 0);
});

void test('sampling from options records: v9 per sampler id, IPFIX packet interval/space and size/population', () => {
  const d = new FlowDecoder(LIMITS);
  const withSampler: Field[] = [...V4_FIELDS, { id: 48, length: 1 }];
  const optTpl = { kind: 'options' as const, templates: [{ id: 260, scope: [{ id: 1, length: 4 }], fields: [{ id: 48, length: 1 }, { id: 34, length: 4 }] }] };
  const opts = { kind: 'data' as const, id: 260, fields: [{ id: 1, length: 4 }, { id: 48, length: 1 }, { id: 34, length: 4 }], records: [[0, 1, 100], [0, 2, 1000]] };
  const flows = makeFlows(2).map((f, i) => ({ ...f, samplerId: i + 1 }));
  d.decode(v9Datagram({ ...V9H, seq: 0 }, [optTpl, opts, { kind: 'template', templates: [{ id: 261, fields: withSampler }] }, dataSet(261, withSampler, flows)]), E1, T0);
  const got = rows(d.decodeQueued());
  sameFlows(got.slice(0, 1), flows.slice(0, 1), 100);
  sameFlows(got.slice(1), flows.slice(1), 1000);

  // IPFIX: selectorId scope, samplingPacketInterval 1 / samplingPacketSpace 99 → 100; no sampler id in data: the only one
  const ipOpt = { kind: 'options' as const, templates: [{ id: 600, scope: [{ id: 302, length: 4 }], fields: [{ id: 305, length: 4 }, { id: 306, length: 4 }] }] };
  const ipOptData = { kind: 'data' as const, id: 600, fields: [{ id: 302, length: 4 }, { id: 305, length: 4 }, { id: 306, length: 4 }], records: [[5, 1, 99]] };
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [ipOpt, ipOptData, { kind: 'template', templates: [{ id: 601, fields: V4_FIELDS }] }, dataSet(601, V4_FIELDS, flows)]), E1, T0);
  sameFlows(rows(d.decodeQueued()), flows, 100);
  // samplingSize / samplingPopulation, another domain
  const popOpt = { kind: 'options' as const, templates: [{ id: 602, scope: [{ id: 149, length: 4 }], fields: [{ id: 309, length: 4 }, { id: 310, length: 4 }] }] };
  const popData = { kind: 'data' as const, id: 602, fields: [{ id: 149, length: 4 }, { id: 309, length: 4 }, { id: 310, length: 4 }], records: [[9, 1, 64]] };
  d.decode(ipfixDatagram({ ...IPH, domain: 9, seq: 0 }, [popOpt, popData, { kind: 'template', templates: [{ id: 601, fields: V4_FIELDS }] }, dataSet(601, V4_FIELDS, flows)]), E1, T0);
  sameFlows(rows(d.decodeQueued()), flows, 64);
  assert.equal(exporter(d, E1).lastSamplingRate, 64);
});

void test('IPFIX: sequence counts data records, options records included', () => {
  const d = new FlowDecoder(LIMITS);
  const tpl = { kind: 'template' as const, templates: [{ id: 256, fields: V4_FIELDS }] };
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [tpl, dataSet(256, V4_FIELDS, makeFlows(3))]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, seq: 3 }, [dataSet(256, V4_FIELDS, makeFlows(2))]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, seq: 9 }, [dataSet(256, V4_FIELDS, makeFlows(1))]), E1, T0); // 4 records lost
  const optTpl = { kind: 'options' as const, templates: [{ id: 260, scope: [{ id: 149, length: 4 }], fields: [{ id: 34, length: 4 }] }] };
  d.decode(ipfixDatagram({ ...IPH, seq: 10 }, [optTpl, { kind: 'data', id: 260, fields: [{ id: 149, length: 4 }, { id: 34, length: 4 }], records: [[3, 1]] }]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, seq: 11 }, [dataSet(256, V4_FIELDS, makeFlows(1))]), E1, T0);
  assert.equal(exporter(d, E1).sequenceLost[10], 4);
});

void test('truncated, garbage and malformed datagrams are counted and dropped, their rows removed', () => {
  const d = new FlowDecoder(LIMITS);
  const good = v9Datagram({ ...V9H, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }, dataSet(256, V4_FIELDS, makeFlows(3))]);
  d.decode(good, E1, T0);
  assert.equal(d.queue.records, 3);
  d.decode(good.subarray(0, good.length - 10), E1, T0); // last set runs past the end
  d.decode(new Uint8Array([0, 7, 1, 2, 3]), E1, T0);
  d.decode(new Uint8Array([0]), E1, T0);
  d.decode(v5Datagram({ seq: 0, uptimeMs: 0, unixSecs: 0 }, makeFlows(2)).subarray(0, 70), E1, T0);
  const ipfix = ipfixDatagram({ ...IPH, seq: 0 }, [dataSet(256, V4_FIELDS, makeFlows(1))]);
  ipfix[3]! += 4; // message length beyond the datagram
  d.decode(ipfix, E1, T0);
  const badVar: Field[] = [{ id: 82, length: 65535 }, ...V4_FIELDS];
  const ok = ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 700, fields: badVar }] }, { kind: 'data', id: 700, fields: badVar, records: [['eth', ...flowValues(V4_FIELDS, makeFlows(1)[0]!)]] }]);
  const at = ok.length - 45; // the variable length octet of the record: now runs past the set
  assert.equal(ok[at], 3);
  ok[at] = 200;
  d.decode(ok, E1, T0);
  assert.equal(d.queue.records, 3);
  assert.deepEqual(Object.fromEntries(exporter(d, E1).errors), { bad_set: 1, bad_version: 1, truncated: 4 });
});

void test('limits: exporters beyond the cap go to "other", templates beyond the cap are refused', () => {
  const d = new FlowDecoder({ ...LIMITS, maxExporters: 1, maxTemplates: 2 });
  const tpls = [256, 257, 258].map((id) => ({ id, fields: V4_FIELDS }));
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: tpls }]), E1, T0);
  assert.equal(exporter(d, E1).templateCount, 2);
  assert.equal(exporter(d, E1).errors.get('template_limit'), 1);
  d.decode(v5Datagram({ seq: 0, uptimeMs: 0, unixSecs: 0 }, makeFlows(1)), E2, T0);
  assert.equal(d.overflow.errors.get('exporter_limit'), 1);
  assert.equal(d.overflow.datagrams[5], 1);
});

void test('state export/import: templates and samplers survive a restart (through JSON); junk is skipped', () => {
  const d = new FlowDecoder(LIMITS);
  const optTpl = { kind: 'options' as const, templates: [{ id: 260, scope: [{ id: 1, length: 4 }], fields: [{ id: 34, length: 4 }] }] };
  d.decode(v9Datagram({ ...V9H, seq: 0 }, [optTpl, { kind: 'data', id: 260, fields: [{ id: 1, length: 4 }, { id: 34, length: 4 }], records: [[0, 8]] },
    { kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }]), E1, T0);
  const gen = d.generation;
  assert.ok(gen > 0);
  const json = JSON.parse(JSON.stringify(d.exportState())) as { templates: unknown[] };
  json.templates.push({ exporter: 1 }, null, { exporter: 'x', version: 9, domain: 0, def: { id: 3, options: false, scopeCount: 0, fields: [] } });
  const d2 = new FlowDecoder(LIMITS);
  assert.equal(d2.importState(json), 2);
  assert.equal(d2.importState('junk'), 0);
  const flows = makeFlows(2);
  d2.decode(v9Datagram({ ...V9H, seq: 1 }, [dataSet(256, V4_FIELDS, flows)]), E1, T0);
  sameFlows(rows(d2.decodeQueued()), flows, 8);
});

void test('IPFIX: sequence gaps are counted while early data is held, once its records are known', () => {
  const d = new FlowDecoder(LIMITS);
  const tpl = { kind: 'template' as const, templates: [{ id: 256, fields: V4_FIELDS }] };
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [dataSet(256, V4_FIELDS, makeFlows(3))]), E1, T0); // held, 3 records
  d.decode(ipfixDatagram({ ...IPH, seq: 5 }, [dataSet(256, V4_FIELDS, makeFlows(2))]), E1, T0); // 2 lost before it; held
  assert.equal(exporter(d, E1).sequenceLost[10], 0, 'not known yet');
  d.decode(ipfixDatagram({ ...IPH, seq: 8 }, [tpl, dataSet(256, V4_FIELDS, makeFlows(1))]), E1, T0); // 1 lost before it
  assert.equal(exporter(d, E1).earlyDecoded, 2);
  assert.equal(exporter(d, E1).sequenceLost[10], 3);
  d.decode(ipfixDatagram({ ...IPH, seq: 9 }, [dataSet(256, V4_FIELDS, makeFlows(1))]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, seq: 12 }, [dataSet(256, V4_FIELDS, makeFlows(1))]), E1, T0);
  assert.equal(exporter(d, E1).sequenceLost[10], 5, 'counted at once again');
  // a held entry evicted by age: its records are never known, so the gap is not guessed
  d.decode(ipfixDatagram({ ...IPH, domain: 4, seq: 0 }, [dataSet(257, V4_FIELDS, makeFlows(3))]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, domain: 4, seq: 10 }, [dataSet(257, V4_FIELDS, makeFlows(1))]), E1, T0);
  d.expire(T0 + 60_001);
  d.decode(ipfixDatagram({ ...IPH, domain: 4, seq: 50 }, [tpl]), E1, T0 + 60_001);
  d.decode(ipfixDatagram({ ...IPH, domain: 4, seq: 52 }, [tpl]), E1, T0 + 60_001);
  assert.equal(exporter(d, E1).sequenceLost[10], 7, 'only the gap after the resync');
});
