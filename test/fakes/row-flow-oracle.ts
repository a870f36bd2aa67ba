/**
 * The reference the chunked flow store is checked against: the row-per-flow SQLite layout it
 * replaced (schema 1, one `flows` row per flow) with that store's SQL of flow queries, kept here
 * unchanged, plus its insert and result conversion. It also makes schema-1 files for the upgrade
 * test.
 */
import Database from 'better-sqlite3';
import { AppError, ErrorCodes } from '../../src/lib/errors.js';
import { addressRange, flowAddressText, isAbsentAddress } from '../../src/flows/flow-address.js';
import type { FlowFilter, FlowGroupKey, FlowQueryResult, FlowQueryRow, FlowQuerySpec } from '../../src/flows/types.js';
import type { FlowBatch } from '../../src/packet/flow/types.js';

export const SQLITE_SCHEMA_VERSION = 1;

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS wireprobe_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exporters (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS flows (
  id INTEGER PRIMARY KEY,
  end_ms INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  exporter INTEGER NOT NULL,
  version INTEGER NOT NULL,
  domain INTEGER NOT NULL,
  src BLOB NOT NULL,
  dst BLOB NOT NULL,
  next_hop BLOB,
  src_port INTEGER NOT NULL,
  dst_port INTEGER NOT NULL,
  proto INTEGER NOT NULL,
  tcp_flags INTEGER NOT NULL,
  tos INTEGER NOT NULL,
  in_if INTEGER NOT NULL,
  out_if INTEGER NOT NULL,
  src_as INTEGER NOT NULL,
  dst_as INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  packets INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  raw_packets INTEGER NOT NULL,
  sampling_rate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_end ON flows (end_ms);
`;

/** columns an insert binds, in order */
export const INSERT_COLUMNS = [
  'end_ms', 'start_ms', 'exporter', 'version', 'domain', 'src', 'dst', 'next_hop', 'src_port', 'dst_port', 'proto', 'tcp_flags', 'tos',
  'in_if', 'out_if', 'src_as', 'dst_as', 'bytes', 'packets', 'raw_bytes', 'raw_packets', 'sampling_rate',
] as const;

/** `INSERT INTO flows (…) VALUES (?, …), …` for `rows` rows. */
export function insertSql(rows: number): string {
  const one = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT INTO flows (${INSERT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => one).join(', ')}`;
}

/** The name of the per-row deadline function the query worker registers (it throws once the query is overdue). */
export const ALIVE_FUNCTION = 'wireprobe_alive';

export interface Sql {
  readonly text: string;
  readonly params: readonly (number | string | Uint8Array)[];
}

/** What each group key selects and groups by, and the names of its result columns. */
const GROUP_COLUMNS: Readonly<Record<FlowGroupKey, { readonly select: string; readonly group: string; readonly keys: readonly string[] }>> = {
  src: { select: 'f.src AS src', group: 'f.src', keys: ['src'] },
  dst: { select: 'f.dst AS dst', group: 'f.dst', keys: ['dst'] },
  conversation: { select: 'f.src AS src, f.dst AS dst', group: 'f.src, f.dst', keys: ['src', 'dst'] },
  proto: { select: 'f.proto AS proto', group: 'f.proto', keys: ['proto'] },
  src_port: { select: 'f.src_port AS src_port', group: 'f.src_port', keys: ['src_port'] },
  dst_port: { select: 'f.dst_port AS dst_port', group: 'f.dst_port', keys: ['dst_port'] },
  exporter: { select: '(SELECT address FROM exporters e WHERE e.id = f.exporter) AS exporter', group: 'f.exporter', keys: ['exporter'] },
  in_if: { select: 'f.in_if AS in_if', group: 'f.in_if', keys: ['in_if'] },
  out_if: { select: 'f.out_if AS out_if', group: 'f.out_if', keys: ['out_if'] },
};

/** result columns holding 16-byte addresses, turned into text by the caller */
export const ADDRESS_COLUMNS: ReadonlySet<string> = new Set(['src', 'dst', 'next_hop']);

/** Result columns of an ungrouped query (one row per flow), besides flows/bytes/packets. */
export const FLOW_ROW_KEYS = ['end_ms', 'start_ms', 'exporter', 'src', 'dst', 'src_port', 'dst_port', 'proto', 'tcp_flags', 'in_if', 'out_if'] as const;

export function groupKeyColumns(groupBy: FlowGroupKey | undefined): readonly string[] {
  return groupBy === undefined ? FLOW_ROW_KEYS : GROUP_COLUMNS[groupBy].keys;
}

/** The WHERE clause of a spec, ending with the deadline check; FLOWDB_ERR_QUERY_INVALID for an address that does not parse. */
export function whereClause(spec: Pick<FlowQuerySpec, 'fromMs' | 'toMs' | 'filter'>): Sql {
  const parts = ['f.end_ms >= ?', 'f.end_ms < ?'];
  const params: (number | string | Uint8Array)[] = [Math.floor(spec.fromMs), Math.ceil(spec.toMs)];
  const f: FlowFilter = spec.filter;
  const ranges = (columns: readonly string[], list: readonly string[] | undefined): void => {
    if (list === undefined || list.length === 0) return;
    const alternatives: string[] = [];
    for (const text of list) {
      const range = addressRange(text);
      if (range === null) throw new AppError(ErrorCodes.FLOWDB_ERR_QUERY_INVALID, `${JSON.stringify(text)} is not an IP address or CIDR`);
      for (const c of columns) {
        alternatives.push(`f.${c} BETWEEN ? AND ?`);
        params.push(range.lo, range.hi);
      }
    }
    parts.push(`(${alternatives.join(' OR ')})`);
  };
  const within = (columns: readonly string[], list: readonly (number | string)[] | undefined): void => {
    if (list === undefined || list.length === 0) return;
    const marks = list.map(() => '?').join(', ');
    parts.push(`(${columns.map((c) => `${c} IN (${marks})`).join(' OR ')})`);
    for (let i = 0; i < columns.length; i++) params.push(...list);
  };
  ranges(['src'], f.src);
  ranges(['dst'], f.dst);
  ranges(['src', 'dst'], f.addr);
  within(['f.src_port'], f.srcPort);
  within(['f.dst_port'], f.dstPort);
  within(['f.src_port', 'f.dst_port'], f.port);
  within(['f.proto'], f.proto);
  within(['f.in_if'], f.inIf);
  within(['f.out_if'], f.outIf);
  if (f.exporter !== undefined && f.exporter.length > 0) {
    // exporters are stored by id: match their text through the exporters table
    parts.push(`f.exporter IN (SELECT id FROM exporters WHERE address IN (${f.exporter.map(() => '?').join(', ')}))`);
    params.push(...f.exporter);
  }
  parts.push(`${ALIVE_FUNCTION}()`);
  return { text: parts.join(' AND '), params };
}

const ORDER: Readonly<Record<FlowQuerySpec['orderBy'], string>> = { bytes: 'bytes', packets: 'packets', flows: 'flows' };

/** The totals query and the rows query of a spec. */
export function querySql(spec: FlowQuerySpec): { readonly totals: Sql; readonly rows: Sql } {
  const where = whereClause(spec);
  const totals = { text: `SELECT count(*) AS flows, total(f.bytes) AS bytes, total(f.packets) AS packets FROM flows f WHERE ${where.text}`, params: where.params };
  const limit = Math.max(1, Math.floor(spec.limit));
  if (spec.groupBy === undefined) {
    // one row per flow: newest first, or the largest first when ordered by bytes or packets
    const order = spec.orderBy === 'flows' ? 'f.end_ms DESC, f.id DESC' : `f.${ORDER[spec.orderBy]} DESC, f.end_ms DESC`;
    const text =
      'SELECT f.end_ms, f.start_ms, (SELECT address FROM exporters e WHERE e.id = f.exporter) AS exporter, f.src, f.dst, f.src_port, f.dst_port, ' +
      `f.proto, f.tcp_flags, f.in_if, f.out_if, 1 AS flows, f.bytes, f.packets FROM flows f WHERE ${where.text} ORDER BY ${order} LIMIT ?`;
    return { totals, rows: { text, params: [...where.params, limit] } };
  }
  const g = GROUP_COLUMNS[spec.groupBy];
  const text =
    `SELECT ${g.select}, count(*) AS flows, total(f.bytes) AS bytes, total(f.packets) AS packets FROM flows f WHERE ${where.text} ` +
    `GROUP BY ${g.group} ORDER BY ${ORDER[spec.orderBy]} DESC, ${g.group} LIMIT ?`;
  return { totals, rows: { text, params: [...where.params, limit] } };
}

/** A row-per-flow database (a file, or ':memory:') holding the batches, as the schema-1 store wrote them. */
export function rowFlowDatabase(path: string, batches: readonly FlowBatch[]): Database.Database {
  const db = new Database(path);
  db.exec(SQLITE_SCHEMA);
  db.prepare("INSERT INTO wireprobe_meta (key, value) VALUES ('schema_version', ?)").run(String(SQLITE_SCHEMA_VERSION));
  db.function(ALIVE_FUNCTION, () => 1);
  const insert = db.prepare(insertSql(1));
  const addExporter = db.prepare('INSERT OR IGNORE INTO exporters (address) VALUES (?)');
  const exporterId = db.prepare('SELECT id FROM exporters WHERE address = ?').pluck();
  const address = (col: Uint8Array, i: number): Buffer => Buffer.from(col.buffer, col.byteOffset + i * 16, 16);
  db.transaction(() => {
    for (const b of batches) {
      const ids = b.exporters.map((a) => {
        addExporter.run(a);
        return exporterId.get(a) as number;
      });
      for (let i = 0; i < b.count; i++) {
        insert.run(
          Math.round(b.endMs[i]!), Math.round(b.startMs[i]!), ids[b.exporter[i]!] ?? 0, b.version[i], b.domain[i], address(b.src, i), address(b.dst, i),
          isAbsentAddress(b.nextHop, i * 16) ? null : address(b.nextHop, i), b.srcPort[i], b.dstPort[i], b.proto[i], b.tcpFlags[i], b.tos[i],
          b.inIf[i], b.outIf[i], b.srcAs[i], b.dstAs[i], b.bytes[i], b.packets[i], b.rawBytes[i], b.rawPackets[i], b.samplingRate[i],
        );
      }
    }
  })();
  return db;
}

function toRow(raw: Record<string, unknown>, keys: readonly string[]): FlowQueryRow {
  const key: Record<string, string | number> = {};
  for (const k of keys) {
    const v = raw[k];
    if (ADDRESS_COLUMNS.has(k)) key[k] = v instanceof Uint8Array ? flowAddressText(v) : '';
    else if (k === 'end_ms' || k === 'start_ms') key[k === 'end_ms' ? 'end' : 'start'] = new Date(Number(v)).toISOString();
    else key[k] = typeof v === 'number' || typeof v === 'string' ? v : Number(v ?? 0);
  }
  return { key, flows: Number(raw['flows']), bytes: Number(raw['bytes']), packets: Number(raw['packets']) };
}

/** A query as the row-per-flow store answered it. */
export function rowFlowQuery(db: Database.Database, spec: FlowQuerySpec): FlowQueryResult {
  const sql = querySql(spec);
  const t = db.prepare(sql.totals.text).get(...sql.totals.params) as { flows: number; bytes: number; packets: number };
  const rows = (db.prepare(sql.rows.text).all(...sql.rows.params) as Record<string, unknown>[]).map((r) => toRow(r, groupKeyColumns(spec.groupBy)));
  return { rows, totals: { flows: t.flows, bytes: t.bytes, packets: t.packets } };
}
