/**
 * The query side of the SQLite flow database (in its worker): a read-only connection (WAL:
 * readers never block the writer) on which each query reads, in one read transaction, the
 * chunks of its time range (and exporters) with only the columns it needs, and runs ChunkQuery
 * over them; the deadline is checked before each chunk.
 */
import type { MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { AppError, ErrorCodes, errorMessage, isAppError } from '../../lib/errors.js';
import type { FlowQueryResult, FlowQuerySpec } from '../types.js';
import { decodeColumn, type ChunkColumns } from './chunk-codec.js';
import { ChunkQuery } from './chunk-query.js';
import { fileBytes } from './file-bytes.js';
import type { FromWorker, ReaderInit, ToReader } from './sqlite-protocol.js';
import { chunkSelectSql } from './sqlite-sql.js';

/** Runs a query on an open flow database; FLOWDB_ERR_QUERY_TIMEOUT past deadlineMs (Unix ms). */
export function queryFlowDatabase(db: Database.Database, spec: FlowQuerySpec, deadlineMs: number): FlowQueryResult {
  const timeout = (): AppError => new AppError(ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT, 'the flow query did not finish within its timeout');
  if (Date.now() >= deadlineMs) throw timeout();
  return db.transaction(() => {
    const exporters = new Map(db.prepare('SELECT id, address FROM exporters').raw(true).all() as [number, string][]);
    const q = new ChunkQuery(spec, exporters);
    const sql = chunkSelectSql(q.fields, spec.fromMs, spec.toMs, q.exporterIds, q.newestFirst);
    const fields = q.fields;
    for (const raw of db.prepare(sql.text).raw(true).iterate(...sql.params)) {
      if (Date.now() > deadlineMs) throw timeout();
      const row = raw as unknown[];
      const [id, exporter, minEndMs, maxEndMs, flows] = row as [number, number, number, number, number];
      const cols: ChunkColumns = {};
      for (let k = 0; k < fields.length; k++) {
        const field = fields[k]!;
        const col = decodeColumn(field, row[5 + k] as Uint8Array, flows, minEndMs, field === 'startMs' ? cols.endMs : undefined);
        if (col === null) throw new AppError(ErrorCodes.FLOWDB_ERR_STORE, `flow chunk ${id}: its ${field} column does not hold ${flows} flows`);
        (cols as Record<string, unknown>)[field] = col;
      }
      q.add({ id, exporter, flows, minEndMs, maxEndMs, cols });
    }
    return q.result();
  })();
}

export function runReader(init: ReaderInit, db: Database.Database, port: MessagePort): void {
  const send = (m: FromWorker): void => port.postMessage(m);
  port.on('message', (m: ToReader) => {
    if (m.type === 'close') {
      db.close();
      send({ type: 'closed' });
      port.close();
      return;
    }
    try {
      send({ type: 'result', id: m.id, result: queryFlowDatabase(db, m.spec, m.deadlineMs) });
    } catch (e) {
      const code = isAppError(e) ? e.code : ErrorCodes.FLOWDB_ERR_STORE;
      send({ type: 'error', id: m.id, code, message: errorMessage(e) });
    }
  });
  send({ type: 'ready', sizeBytes: fileBytes(init.path) });
}
