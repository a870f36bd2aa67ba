// Random flows with few distinct values (so groups, ties and filters all bite) and random flow
// queries over them, for comparing the chunked store with the row-per-flow reference.
import assert from 'node:assert/strict';
import type { FlowGroupKey, FlowQueryResult, FlowQueryRow, FlowQuerySpec } from '../../src/flows/types.js';
import type { FlowBatch } from '../../src/packet/flow/types.js';
import { flowBatch, type FlowRow } from './flow-batch.js';
import { rng } from './rng.js';

const EXPORTERS = ['198.18.255.1', '198.18.255.2', '2001:db8:ffff::1', '2001:db8:ffff::2'];
const V4 = Array.from({ length: 40 }, (_, i) => `198.${18 + (i % 2)}.${(i * 6) % 256}.${(i * 37) % 256}`);
const V6 = Array.from({ length: 12 }, (_, i) => `2001:db8:${i.toString(16)}::${(i * 11).toString(16)}`);
const ADDRESSES = [...V4, ...V6];
const PORTS = [22, 53, 80, 443, 1024, 5353, 40000, 65535];
const GROUPS: readonly (FlowGroupKey | undefined)[] = ['src', 'dst', 'conversation', 'proto', 'src_port', 'dst_port', 'exporter', 'in_if', 'out_if', undefined];
const CIDRS = ['198.18.0.0/15', '198.18.0.0/16', '198.19.0.0/17', '198.18.7.0/24', '2001:db8::/32', '2001:db8:3::/48', '0.0.0.0/0', '::/0', '198.18.0.7', '2001:db8:1::b'];

/** `n` flows ending in [fromMs, toMs), in `batches` batches (arrival order roughly by time, as exporters send). */
export function randomBatches(seed: number, n: number, batches: number, fromMs: number, toMs: number): FlowBatch[] {
  const r = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[r.int(list.length)]!;
  const out: FlowBatch[] = [];
  const per = Math.ceil(n / batches);
  for (let b = 0; b * per < n; b++) {
    const rows: FlowRow[] = [];
    const span = (toMs - fromMs) / batches;
    for (let i = 0; i < Math.min(per, n - b * per); i++) {
      const endMs = Math.floor(fromMs + span * b + r.next() * span * 1.5);
      rows.push({
        exporter: pick(EXPORTERS),
        src: pick(ADDRESSES),
        dst: pick(ADDRESSES),
        srcPort: pick(PORTS),
        dstPort: pick(PORTS),
        proto: pick([1, 6, 17, 58]),
        bytes: 40 * (1 + r.int(20)),
        packets: 1 + r.int(5),
        endMs: Math.min(endMs, toMs - 1),
        startMs: endMs - r.int(30_000),
        inIf: 1 + r.int(4),
        outIf: 1 + r.int(4),
        samplingRate: pick([1, 1, 1, 10]),
      });
    }
    out.push(flowBatch(rows));
  }
  return out;
}

/** A random query over flows ending in [fromMs, toMs): time range, zero to three filters, a group key or none, an order and a limit. */
export function randomSpec(r: ReturnType<typeof rng>, fromMs: number, toMs: number): FlowQuerySpec {
  const pick = <T>(list: readonly T[]): T => list[r.int(list.length)]!;
  const some = <T>(list: readonly T[]): T[] => Array.from({ length: 1 + r.int(2) }, () => pick(list));
  const a = fromMs + r.next() * (toMs - fromMs);
  const b = fromMs + r.next() * (toMs - fromMs);
  const whole = r.int(3) === 0;
  const filter: Record<string, unknown> = {};
  const filters: (() => void)[] = [
    () => (filter['src'] = some([...CIDRS, ...ADDRESSES])),
    () => (filter['dst'] = some([...CIDRS, ...ADDRESSES])),
    () => (filter['addr'] = some([...CIDRS, ...ADDRESSES])),
    () => (filter['srcPort'] = some(PORTS)),
    () => (filter['dstPort'] = some(PORTS)),
    () => (filter['port'] = some(PORTS)),
    () => (filter['proto'] = some([1, 6, 17, 58, 99])),
    () => (filter['exporter'] = some([...EXPORTERS, '203.0.113.9'])),
    () => (filter['inIf'] = some([1, 2, 3, 4, 9])),
    () => (filter['outIf'] = some([1, 2, 3, 4, 9])),
  ];
  for (let k = r.int(4); k > 0; k--) pick(filters)();
  const groupBy = pick(GROUPS);
  return {
    fromMs: whole ? fromMs - 1 : Math.min(a, b),
    toMs: whole ? toMs + 1 : Math.max(a, b),
    filter,
    ...(groupBy === undefined ? {} : { groupBy }),
    orderBy: pick(['bytes', 'packets', 'flows'] as const),
    limit: 1 + r.int(40),
  };
}

/**
 * Asserts that a result equals the reference's: totals and grouped rows exactly; single flows
 * by their order (measure and end) and, except those tied with the last one (either side may
 * cut a tie differently), as the same rows.
 */
export function assertSameResult(got: FlowQueryResult, want: FlowQueryResult, spec: FlowQuerySpec): void {
  const what = JSON.stringify(spec);
  assert.deepEqual(got.totals, want.totals, what);
  if (spec.groupBy !== undefined) {
    assert.deepEqual(got.rows, want.rows, what);
    return;
  }
  const order = (row: FlowQueryRow): string => `${spec.orderBy === 'flows' ? '' : row[spec.orderBy]}@${String(row.key['end'])}`;
  assert.deepEqual(got.rows.map(order), want.rows.map(order), what);
  const last = want.rows.length === 0 ? null : order(want.rows[want.rows.length - 1]!);
  const settled = (rows: readonly FlowQueryRow[]): string[] => rows.filter((row) => order(row) !== last).map((row) => JSON.stringify(row)).sort();
  assert.deepEqual(settled(got.rows), settled(want.rows), what);
}
