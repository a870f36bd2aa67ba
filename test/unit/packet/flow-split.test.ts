import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDataJob, type DataJob, type DataJobResult } from '../../../src/packet/flow/data-job.js';
import { FlowDecoder, type DecoderLimits, type ExporterState } from '../../../src/packet/flow/decoder.js';
import type { FlowBatch } from '../../../src/packet/flow/types.js';
import { createWorkerPool } from '../../../src/workers/pool.js';
import { dataSet, ipfixDatagram, makeFlows, v5Datagram, v9Datagram, V4_FIELDS, type Field, type FlowSpec } from '../../fakes/flow-builder.js';

// The decoder's control half queues validated data sets into jobs; any thread decodes a job.
// These tests cut the datagram stream into jobs at the awkward places and decode the jobs out
// of order, some in a real worker thread.

const LIMITS: DecoderLimits = { maxExporters: 16, maxTemplates: 64, earlyMaxDatagrams: 8, earlyMaxAgeMs: 60_000 };
const E1 = '192.0.2.1';
const T0 = 1_700_000_000_000;
const IPH = { domain: 3, exportSecs: T0 / 1000 };
const ALT: Field[] = [{ id: 12, length: 4 }, { id: 8, length: 4 }, { id: 2, length: 4 }, { id: 1, length: 4 }, { id: 11, length: 2 }, { id: 7, length: 2 }, { id: 4, length: 1 }];

function exporter(d: FlowDecoder): ExporterState {
  const st = [...d.exporters()].find((e) => e.address === E1);
  assert.ok(st);
  return st;
}

/** src, dst, ports, proto, raw bytes, scaled bytes, rate per row */
function rows(b: FlowBatch): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.count; i++) {
    const a = (col: Uint8Array): string => col.subarray(i * 16 + 12, i * 16 + 16).join('.');
    out.push(`${a(b.src)} ${a(b.dst)} ${b.srcPort[i]} ${b.dstPort[i]} ${b.proto[i]} ${b.rawBytes[i]} ${b.bytes[i]} ${b.samplingRate[i]} ${b.endMs[i]}`);
  }
  return out;
}

function want(flows: readonly FlowSpec[], rate = 1, endMs = T0): string[] {
  return flows.map((f) => `${f.src} ${f.dst} ${f.srcPort} ${f.dstPort} ${f.proto} ${f.bytes} ${f.bytes * rate} ${rate} ${endMs}`);
}

function take(d: FlowDecoder): DataJob {
  const job = d.takeJob();
  assert.ok(job, 'a job');
  return job;
}

function apply(d: FlowDecoder, job: DataJob, r: DataJobResult): string[] {
  d.applyTallies(job.exporters, r.tallies);
  return rows(r.batch);
}

void test('split: template in one job, its data in the next; jobs decoded out of order keep their own template version', () => {
  const d = new FlowDecoder(LIMITS);
  const f1 = makeFlows(3, 1);
  const f2 = makeFlows(2, 2);
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }]), E1, T0);
  assert.equal(d.takeJob(), null, 'a template alone queues nothing');
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [dataSet(256, V4_FIELDS, f1)]), E1, T0);
  const job1 = take(d);
  // withdrawal and redefinition between the jobs
  d.decode(ipfixDatagram({ ...IPH, seq: 3 }, [{ kind: 'withdraw', ids: [256] }]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, seq: 3 }, [{ kind: 'template', templates: [{ id: 256, fields: ALT }] }, dataSet(256, ALT, f2)]), E1, T0);
  const job2 = take(d);
  assert.equal(exporter(d).flows, 0, 'counters move when a job comes back');
  assert.deepEqual(apply(d, job2, decodeDataJob(job2)), want(f2));
  assert.deepEqual(apply(d, job1, decodeDataJob(job1)), want(f1));
  assert.equal(exporter(d).flows, 5);
  assert.equal(exporter(d).bytes, [...f1, ...f2].reduce((s, f) => s + f.bytes, 0));
  assert.equal(exporter(d).sequenceLost[10], 0);
});

void test('split: a job decoded into a spent batch\'s buffer equals a fresh decode; fields its template lacks read 0, not the old rows', () => {
  const d = new FlowDecoder(LIMITS);
  const full = makeFlows(40, 1).map((f) => ({ ...f, inIf: 7, outIf: 9 }));
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }, dataSet(256, V4_FIELDS, full)]), E1, T0);
  const spent = decodeDataJob(take(d)).batch;
  assert.equal(spent.inIf[0], 7);
  const flows = makeFlows(30, 2);
  d.decode(ipfixDatagram({ ...IPH, seq: 40 }, [{ kind: 'template', templates: [{ id: 257, fields: ALT }] }, dataSet(257, ALT, flows)]), E1, T0);
  const job = take(d);
  const fresh = decodeDataJob(job).batch;
  const spare = spent.bytes.buffer as ArrayBuffer;
  const reused = decodeDataJob({ ...job, spare }).batch;
  assert.equal(reused.bytes.buffer, spare, 'decoded into the spare');
  assert.deepEqual(rows(reused), rows(fresh));
  assert.deepEqual(rows(reused), want(flows));
  assert.deepEqual([...reused.inIf, ...reused.outIf, ...reused.nextHop], new Array(30 * 18).fill(0));
  const small = decodeDataJob({ ...job, spare: new ArrayBuffer(8) }).batch;
  assert.notEqual(small.bytes.buffer.byteLength, 8, 'too small a spare: a new buffer');
  assert.deepEqual(rows(small), want(flows));
});

void test('split: early data held across jobs is queued, with its own export time, when the template comes', () => {
  const d = new FlowDecoder(LIMITS);
  const flows = makeFlows(4);
  d.decode(ipfixDatagram({ ...IPH, seq: 0, exportSecs: T0 / 1000 - 5 }, [dataSet(300, V4_FIELDS, flows)]), E1, T0);
  assert.equal(d.takeJob(), null);
  assert.equal(exporter(d).earlyBuffered, 1);
  d.decode(ipfixDatagram({ ...IPH, seq: 4 }, [{ kind: 'template', templates: [{ id: 300, fields: V4_FIELDS }] }]), E1, T0 + 1000);
  const job = take(d);
  assert.deepEqual(apply(d, job, decodeDataJob(job)), want(flows, 1, T0 - 5000));
  assert.equal(exporter(d).earlyDecoded, 1);
});

void test('split: a sampling change between two sets of one job applies to the later set only', () => {
  const d = new FlowDecoder(LIMITS);
  const optTpl = { kind: 'options' as const, templates: [{ id: 260, scope: [{ id: 149, length: 4 }], fields: [{ id: 34, length: 4 }] }] };
  const rate = (r: number) => ({ kind: 'data' as const, id: 260, fields: [{ id: 149, length: 4 }, { id: 34, length: 4 }], records: [[3, r]] });
  const tpl = { kind: 'template' as const, templates: [{ id: 256, fields: V4_FIELDS }] };
  const flows = makeFlows(2);
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [optTpl, rate(10), tpl, dataSet(256, V4_FIELDS, flows), rate(20), dataSet(256, V4_FIELDS, flows)]), E1, T0);
  d.decode(ipfixDatagram({ ...IPH, seq: 6 }, [dataSet(256, V4_FIELDS, flows)]), E1, T0);
  const job = take(d);
  assert.deepEqual(apply(d, job, decodeDataJob(job)), [...want(flows, 10), ...want(flows, 20), ...want(flows, 20)]);
  assert.equal(exporter(d).lastSamplingRate, 20);
  assert.equal(exporter(d).sequenceLost[10], 0);
});

void test('split: a malformed datagram leaves nothing in the job; the datagrams before it stay', () => {
  const d = new FlowDecoder(LIMITS);
  const varTpl: Field[] = [...V4_FIELDS, { id: 82, length: 65535 }];
  const fixed = V4_FIELDS.reduce((n, f) => n + f.length, 0);
  const flows = makeFlows(2);
  d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }, { id: 257, fields: varTpl }] }, dataSet(256, V4_FIELDS, flows)]), E1, T0);
  // a good set, then a variable-length set whose length byte runs past the set: the whole datagram goes
  const bad = ipfixDatagram({ ...IPH, seq: 2 }, [dataSet(256, V4_FIELDS, flows), { kind: 'raw', id: 257, body: new Uint8Array([...new Uint8Array(fixed), 200, 1, 2]) }]);
  d.decode(bad, E1, T0);
  assert.equal(exporter(d).errors.get('truncated'), 1);
  const job = take(d);
  assert.equal(job.datagrams, 2);
  assert.equal(job.records, 2);
  assert.deepEqual(apply(d, job, decodeDataJob(job)), want(flows));
});

void test('split: v5, v9 and IPFIX jobs decoded in a worker thread equal the same jobs decoded here; a failed job is counted', async () => {
  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  try {
    const fill = (d: FlowDecoder): void => {
      d.decode(v5Datagram({ seq: 0, uptimeMs: 10_000, unixSecs: T0 / 1000, sampling: 0x4000 | 4 }, makeFlows(30, 1)), E1, T0);
      d.decode(v9Datagram({ sourceId: 7, uptimeMs: 100_000, unixSecs: T0 / 1000, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }, dataSet(256, V4_FIELDS, makeFlows(30, 2))]), E1, T0);
      d.decode(ipfixDatagram({ ...IPH, seq: 0 }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }, dataSet(256, V4_FIELDS, makeFlows(30, 3))]), E1, T0);
    };
    const here = new FlowDecoder(LIMITS);
    fill(here);
    const inline = rows(here.decodeQueued());
    const there = new FlowDecoder(LIMITS);
    fill(there);
    const job = take(there);
    const r = await pool.run('decodeFlows', job, [job.data.buffer as ArrayBuffer]);
    assert.equal(job.data.byteLength, 0, 'the data buffer was transferred, not copied');
    assert.deepEqual(apply(there, job, r), inline);
    assert.equal(inline.length, 90);
    assert.deepEqual([exporter(there).flows, exporter(there).bytes, exporter(there).packets], [exporter(here).flows, exporter(here).bytes, exporter(here).packets]);
    fill(there);
    there.jobLost(take(there));
    assert.equal(exporter(there).errors.get('worker'), 3, 'one per set');
  } finally {
    await pool.close();
  }
});
