/**
 * The PostgreSQL flow table, pure: DDL, time partitions (declarative range partitioning on
 * end_time, one partition per `partition_interval`, named by their start in UTC), and the
 * column arrays of one `INSERT … SELECT FROM unnest(…)` (one statement per batch, 22
 * parameters whatever the row count).
 */
import type { FlowBatch } from '../../packet/flow/types.js';
import { flowAddressText } from '../flow-address.js';

export const PG_TABLE = 'wireprobe_flows';

export const PG_SCHEMA = `
CREATE TABLE IF NOT EXISTS ${PG_TABLE} (
  end_time timestamptz NOT NULL,
  start_time timestamptz NOT NULL,
  exporter inet,
  version smallint NOT NULL,
  domain bigint NOT NULL,
  src inet,
  dst inet,
  next_hop inet,
  src_port integer NOT NULL,
  dst_port integer NOT NULL,
  proto smallint NOT NULL,
  tcp_flags smallint NOT NULL,
  tos smallint NOT NULL,
  in_if bigint NOT NULL,
  out_if bigint NOT NULL,
  src_as bigint NOT NULL,
  dst_as bigint NOT NULL,
  bytes bigint NOT NULL,
  packets bigint NOT NULL,
  raw_bytes bigint NOT NULL,
  raw_packets bigint NOT NULL,
  sampling_rate bigint NOT NULL
) PARTITION BY RANGE (end_time);
CREATE INDEX IF NOT EXISTS ${PG_TABLE}_end_time ON ${PG_TABLE} USING brin (end_time);
`;

const COLUMNS: readonly (readonly [string, string])[] = [
  ['end_time', 'timestamptz'], ['start_time', 'timestamptz'], ['exporter', 'inet'], ['version', 'int2'], ['domain', 'int8'], ['src', 'inet'],
  ['dst', 'inet'], ['next_hop', 'inet'], ['src_port', 'int4'], ['dst_port', 'int4'], ['proto', 'int2'], ['tcp_flags', 'int2'], ['tos', 'int2'],
  ['in_if', 'int8'], ['out_if', 'int8'], ['src_as', 'int8'], ['dst_as', 'int8'], ['bytes', 'int8'], ['packets', 'int8'], ['raw_bytes', 'int8'],
  ['raw_packets', 'int8'], ['sampling_rate', 'int8'],
];

export const PG_INSERT = `INSERT INTO ${PG_TABLE} (${COLUMNS.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})`;

/** Lists the partitions with their bounds (as text, in the session's UTC) and sizes. */
export const PG_LIST_PARTITIONS =
  'SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, pg_total_relation_size(c.oid)::float8 AS bytes, greatest(c.reltuples, 0)::float8 AS rows ' +
  `FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${PG_TABLE}'::regclass`;

/** Start (ms) of the partition holding `ms`. */
export function partitionStart(ms: number, intervalMs: number): number {
  return Math.floor(ms / intervalMs) * intervalMs;
}

/** `wireprobe_flows_p20261204_170000`: the partition's UTC start. */
export function partitionName(startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-12-04T17:00:00.000Z
  return `${PG_TABLE}_p${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
}

export function createPartitionSql(startMs: number, intervalMs: number): string {
  const from = new Date(startMs).toISOString();
  const to = new Date(startMs + intervalMs).toISOString();
  return `CREATE TABLE IF NOT EXISTS ${partitionName(startMs)} PARTITION OF ${PG_TABLE} FOR VALUES FROM ('${from}') TO ('${to}')`;
}

const BOUND = /FROM \('([^']+)'\) TO \('([^']+)'\)/;

/** [fromMs, toMs) of `FOR VALUES FROM ('2026-12-04 17:00:00+00') TO (…)`, or null (a default partition, MINVALUE…). */
export function parsePartitionBound(bound: string): { fromMs: number; toMs: number } | null {
  const m = BOUND.exec(bound);
  if (m === null) return null;
  const ms = (t: string): number => Date.parse(t.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  const fromMs = ms(m[1]!);
  const toMs = ms(m[2]!);
  return Number.isFinite(fromMs) && Number.isFinite(toMs) ? { fromMs, toMs } : null;
}

/** The 22 column arrays of rows `rows` of `batch` (in order), for PG_INSERT. */
export function insertColumns(batch: FlowBatch, rows: readonly number[]): unknown[][] {
  const cols: unknown[][] = COLUMNS.map(() => new Array<unknown>(rows.length));
  const address = (col: Uint8Array, i: number): string | null => flowAddressText(col, i * 16) || null;
  rows.forEach((i, k) => {
    cols[0]![k] = new Date(batch.endMs[i]!).toISOString();
    cols[1]![k] = new Date(batch.startMs[i]!).toISOString();
    cols[2]![k] = batch.exporters[batch.exporter[i]!] ?? null;
    cols[3]![k] = batch.version[i];
    cols[4]![k] = batch.domain[i];
    cols[5]![k] = address(batch.src, i);
    cols[6]![k] = address(batch.dst, i);
    cols[7]![k] = address(batch.nextHop, i);
    cols[8]![k] = batch.srcPort[i];
    cols[9]![k] = batch.dstPort[i];
    cols[10]![k] = batch.proto[i];
    cols[11]![k] = batch.tcpFlags[i];
    cols[12]![k] = batch.tos[i];
    cols[13]![k] = batch.inIf[i];
    cols[14]![k] = batch.outIf[i];
    cols[15]![k] = batch.srcAs[i];
    cols[16]![k] = batch.dstAs[i];
    cols[17]![k] = Math.round(batch.bytes[i]!);
    cols[18]![k] = Math.round(batch.packets[i]!);
    cols[19]![k] = Math.round(batch.rawBytes[i]!);
    cols[20]![k] = Math.round(batch.rawPackets[i]!);
    cols[21]![k] = batch.samplingRate[i];
  });
  return cols;
}
