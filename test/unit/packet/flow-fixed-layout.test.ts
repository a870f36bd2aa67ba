import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDataJob, SET_FIELDS, SetField, type DataJob, type DomainSnap } from '../../../src/packet/flow/data-job.js';
import { compileTemplate, VARIABLE_LENGTH, type TemplateField } from '../../../src/packet/flow/template.js';
import type { FlowBatch } from '../../../src/packet/flow/types.js';
import { rng } from '../../fakes/rng.js';

// Records of a fixed-length template are decoded field by field (a loop over the set's records
// per column); a template with a variable-length field goes record by record. The same field
// values through both must give the same rows, byte for byte, and the same tallies: random
// templates of the data IEs (repeats, alternative counters, every time format, samplers, odd
// lengths, enterprise and unknown fields) against the same template with a variable-length field
// (empty in every record) appended.

/** IE → lengths it may have (decoded or not: a length the decoder does not take is skipped) */
const POOL: readonly (readonly [number, readonly number[]])[] = [
  [1, [1, 2, 4, 8]], [2, [1, 4, 8]], [85, [4, 8]], [86, [4, 8]], [23, [4, 8]], [24, [4, 8]],
  [4, [1, 2]], [5, [1]], [6, [1, 2]], [7, [2, 3]], [11, [2, 4]], [8, [4, 3]], [12, [4]], [27, [16]], [28, [16, 4]], [15, [4]], [62, [16]],
  [10, [2, 4, 1]], [14, [4, 2]], [16, [2, 4]], [17, [4, 8]], [22, [4]], [21, [4]], [150, [4]], [151, [4]], [152, [8]], [153, [8]],
  [154, [8]], [155, [8]], [156, [8]], [157, [8]], [158, [4]], [159, [4]], [48, [1, 2]], [302, [4]], [34, [4, 1]], [50, [4]],
  [60, [1]], [9, [1]], [999, [5, 7]],
];

const SNAPS: readonly DomainSnap[] = [
  { version: 10, domain: 7, initMs: NaN, defaultRate: 1, samplers: [] },
  { version: 9, domain: 0x12345678, initMs: 1_700_000_000_000, defaultRate: 3, samplers: [0, 5, 1, 10, 2, 100, 258, 7] },
];

function randomFields(rand: () => number): TemplateField[] {
  const n = 1 + Math.floor(rand() * 14);
  return Array.from({ length: n }, () => {
    const [id, lengths] = POOL[Math.floor(rand() * POOL.length)]!;
    return { id, length: lengths[Math.floor(rand() * lengths.length)]!, enterprise: rand() < 0.05 ? 9 : 0 };
  });
}

/** `records` records of `fields` with random bytes (small values now and then, so samplers match), and the same with an empty variable-length field appended */
function records(rand: () => number, fields: readonly TemplateField[], count: number): [Uint8Array, Uint8Array] {
  const fixed: number[] = [];
  const variable: number[] = [];
  for (let r = 0; r < count; r++) {
    for (const f of fields) {
      const small = rand() < 0.3;
      for (let i = 0; i < f.length; i++) {
        const v = small ? (i === f.length - 1 ? Math.floor(rand() * 4) : 0) : Math.floor(rand() * 256);
        fixed.push(v);
        variable.push(v);
      }
    }
    variable.push(0);
  }
  return [Uint8Array.from(fixed), Uint8Array.from(variable)];
}

function job(fields: readonly TemplateField[], data: Uint8Array, sets: readonly { start: number; end: number; records: number; snap: number; exportMs: number; uptimeMs: number }[]): DataJob {
  const plan = compileTemplate({ id: 256, options: false, scopeCount: 0, fields }, true);
  assert.ok(plan);
  const s = new Float64Array(sets.length * SET_FIELDS);
  sets.forEach((x, i) => {
    const o = i * SET_FIELDS;
    s[o + SetField.PLAN] = 0;
    s[o + SetField.SNAP] = x.snap;
    s[o + SetField.EXPORTER] = x.snap;
    s[o + SetField.EXPORT_MS] = x.exportMs;
    s[o + SetField.UPTIME_MS] = x.uptimeMs;
    s[o + SetField.START] = x.start;
    s[o + SetField.END] = x.end;
    s[o + SetField.RECORDS] = x.records;
  });
  const records = sets.reduce((a, x) => a + x.records, 0);
  return { data, sets: s, setCount: sets.length, plans: [plan], snaps: SNAPS, exporters: ['192.0.2.1', '2001:db8::1'], datagrams: sets.length, records };
}

const COLUMNS = ['exporter', 'version', 'domain', 'startMs', 'endMs', 'src', 'dst', 'nextHop', 'srcPort', 'dstPort', 'proto', 'tcpFlags', 'tos',
  'inIf', 'outIf', 'srcAs', 'dstAs', 'bytes', 'packets', 'rawBytes', 'rawPackets', 'samplingRate'] as const;

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

void test('fixed-length templates decoded field by field give the rows and tallies of record-by-record decoding', () => {
  const rand = rng(11).next;
  let rows = 0;
  for (let t = 0; t < 400; t++) {
    const fields = randomFields(rand);
    const withVar = [...fields, { id: 82, length: VARIABLE_LENGTH, enterprise: 0 }];
    const sets = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({
      count: Math.floor(rand() * 40), snap: Math.floor(rand() * 2), exportMs: 1_700_000_000_000 + Math.floor(rand() * 1e6), uptimeMs: rand() < 0.5 ? NaN : Math.floor(rand() * 4e9),
    }));
    const parts = sets.map((x) => records(rand, fields, x.count));
    const lay = (k: 0 | 1): { data: Uint8Array; sets: { start: number; end: number; records: number; snap: number; exportMs: number; uptimeMs: number }[] } => {
      const data = Buffer.concat(parts.map((p) => p[k]));
      let at = 0;
      return {
        data,
        sets: sets.map((x, i) => {
          const start = at;
          at += parts[i]![k].length;
          return { start, end: at, records: x.count, snap: x.snap, exportMs: x.exportMs, uptimeMs: x.uptimeMs };
        }),
      };
    };
    const a = lay(0);
    const b = lay(1);
    const fixed = decodeDataJob(job(fields, a.data, a.sets));
    const byRecord = decodeDataJob(job(withVar, b.data, b.sets));
    assert.equal(fixed.errors, 0);
    assert.equal(byRecord.errors, 0);
    assert.equal(fixed.batch.count, byRecord.batch.count);
    const batch = (r: typeof fixed): FlowBatch => r.batch;
    for (const c of COLUMNS) assert.deepEqual(bytesOf(batch(fixed)[c]), bytesOf(batch(byRecord)[c]), `template ${t} (${JSON.stringify(fields)}), column ${c}`);
    assert.deepEqual(bytesOf(fixed.tallies), bytesOf(byRecord.tallies), `template ${t}: tallies`);
    assert.deepEqual(fixed.keys, byRecord.keys);
    rows += fixed.batch.count;
  }
  assert.ok(rows > 4000, `${rows} rows compared`);
});
