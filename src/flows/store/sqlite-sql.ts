/**
 * The SQLite flow schema (chunked columnar, schema 2) and its statements, pure. One row per
 * chunk: flows of one exporter and one time slice (chunk-codec.ts), with the chunk's end range,
 * exporter and flow count as indexed columns and each flow column as a BLOB. Chunks are inserted
 * in arrival order, so the smallest ids are the oldest (what size retention deletes first).
 * Schema 1 (one row per flow, before chunks) is recognised and refused with FLOWDB_ERR_LAYOUT.
 */
import { CHUNK_COLUMNS, chunkColumn, type ChunkField } from './chunk-codec.js';

export const SQLITE_SCHEMA_VERSION = 2;
/** the row-per-flow layout (one `flows` row per flow) */
export const SQLITE_ROW_LAYOUT_VERSION = 1;

/**
 * Run once per connection before the schema; auto_vacuum and page_size must precede the first
 * table. 16 KiB pages: a chunk's BLOBs span a quarter of the overflow pages 4 KiB would need.
 */
export const SQLITE_PRAGMAS = ['page_size = 16384', 'auto_vacuum = INCREMENTAL', 'journal_mode = WAL', 'synchronous = NORMAL', 'foreign_keys = OFF'] as const;

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS wireprobe_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exporters (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  exporter INTEGER NOT NULL,
  min_end_ms INTEGER NOT NULL,
  max_end_ms INTEGER NOT NULL,
  flows INTEGER NOT NULL,
  size INTEGER NOT NULL,
  ${CHUNK_COLUMNS.map((c) => `${c.column} BLOB NOT NULL`).join(',\n  ')}
);
CREATE INDEX IF NOT EXISTS chunks_end ON chunks (max_end_ms, min_end_ms, exporter);
`;

/** `INSERT INTO chunks (…) VALUES (?, …)`: exporter, min_end_ms, max_end_ms, flows, size, then the BLOBs in CHUNK_COLUMNS order. */
export const INSERT_CHUNK_SQL = `INSERT INTO chunks (exporter, min_end_ms, max_end_ms, flows, size, ${CHUNK_COLUMNS.map((c) => c.column).join(', ')}) VALUES (${Array.from(
  { length: 5 + CHUNK_COLUMNS.length },
  () => '?',
).join(', ')})`;

/** The same with an explicit id (a trimmed chunk keeps its place in the storage order). */
export const REPLACE_CHUNK_SQL = INSERT_CHUNK_SQL.replace('INSERT INTO chunks (', 'INSERT OR REPLACE INTO chunks (id, ').replace('VALUES (', 'VALUES (?, ');

export interface Sql {
  readonly text: string;
  readonly params: readonly number[];
}

/**
 * The chunks that can hold flows ending in [fromMs, toMs) (of the given exporters, when not
 * null), with the named columns; oldest first, or newest first.
 */
export function chunkSelectSql(fields: readonly ChunkField[], fromMs: number, toMs: number, exporterIds: readonly number[] | null, newestFirst: boolean): Sql {
  const columns = ['id', 'exporter', 'min_end_ms', 'max_end_ms', 'flows', ...fields.map(chunkColumn)];
  const params: number[] = [Math.floor(fromMs), Math.ceil(toMs)];
  let where = 'max_end_ms >= ? AND min_end_ms < ?';
  if (exporterIds !== null) {
    where += ` AND exporter IN (${exporterIds.map(() => '?').join(', ')})`;
    params.push(...exporterIds);
  }
  return { text: `SELECT ${columns.join(', ')} FROM chunks WHERE ${where} ORDER BY id ${newestFirst ? 'DESC' : 'ASC'}`, params };
}
