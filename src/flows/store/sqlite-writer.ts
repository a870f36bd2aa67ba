/**
 * The write side of the SQLite flow database (in its worker): FlowBatch columns arrive by
 * transfer and are gathered until `batchSize` flows (or `flushIntervalMs`); one transaction then
 * cuts them into chunks of one exporter and one time slice and inserts one row per chunk.
 * Retention deletes whole chunks: by size the oldest, by age those that ended before max_age, and
 * a chunk straddling the age limit is rewritten without its expired flows; freed pages are
 * reused by inserts, and what the plan says is handed back with incremental_vacuum.
 */
import type { MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { ErrorCodes, errorMessage } from '../../lib/errors.js';
import { flowBatchBuffers } from '../../packet/flow/batch.js';
import type { FlowBatch } from '../../packet/flow/types.js';
import { addToRuns, CHUNK_COLUMNS, cutChunks, decodeChunk, encodeChunk, type EncodedChunk } from './chunk-codec.js';
import { fileBytes } from './file-bytes.js';
import { planSqliteRetention, type SqliteSpace } from './retention.js';
import type { FromWorker, ToWriter, WriterInit } from './sqlite-protocol.js';
import { INSERT_CHUNK_SQL, REPLACE_CHUNK_SQL } from './sqlite-sql.js';

/** chunks one retention statement deletes or trims before letting inserts in */
const RETENTION_SLICE = 64;
/** written batches' buffers sent back per transaction at most (the collector keeps a few) */
const MAX_SPENT = 4;

export function runWriter(init: WriterInit, db: Database.Database, port: MessagePort): void {
  const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  // the WAL counts towards max_bytes: checkpoint and truncate it at an eighth of the limit
  const walBytes = init.retention.max_bytes > 0 ? Math.max(256 << 10, Math.floor(init.retention.max_bytes / 8)) : 64 << 20;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`journal_size_limit = ${walBytes}`);
  db.pragma(`wal_autocheckpoint = ${Math.min(1000, Math.max(16, Math.floor(walBytes / pageSize)))}`);
  // the database file gets what the WAL (up to its limit plus a transaction) leaves of max_bytes
  const dbRetention = { ...init.retention, max_bytes: init.retention.max_bytes > 0 ? Math.max(1, init.retention.max_bytes - 2 * walBytes) : 0 };
  const insertChunk = db.prepare(INSERT_CHUNK_SQL);
  const replaceChunk = db.prepare(REPLACE_CHUNK_SQL);
  const addExporter = db.prepare('INSERT OR IGNORE INTO exporters (address) VALUES (?)');
  const exporterId = db.prepare('SELECT id FROM exporters WHERE address = ?').pluck();
  const exporterIds = new Map<string, number>();
  const idOf = (address: string): number => {
    let id = exporterIds.get(address);
    if (id === undefined) {
      addExporter.run(address);
      id = exporterId.get(address) as number;
      exporterIds.set(address, id);
    }
    return id;
  };
  let storedBytes = db.prepare('SELECT total(size) FROM chunks').pluck().get() as number;
  let pending: FlowBatch[] = [];
  let pendingRows = 0;
  let timer: NodeJS.Timeout | null = null;

  const insert = (c: EncodedChunk): void => {
    insertChunk.run(c.exporter, c.minEndMs, c.maxEndMs, c.flows, c.size, ...c.blobs);
    storedBytes += c.size;
  };
  /** One transaction: the batches cut into chunks. */
  const writeAll = db.transaction((batches: FlowBatch[]) => cutChunks(batches, (b) => b.exporters.map(idOf), insert));

  const space = db.prepare(
    'SELECT (SELECT page_size FROM pragma_page_size) AS pageSize, (SELECT page_count FROM pragma_page_count) AS pageCount, ' +
      '(SELECT freelist_count FROM pragma_freelist_count) AS freelistCount',
  );
  const snapshot = (): SqliteSpace => ({ ...(space.get() as Omit<SqliteSpace, 'storedBytes'>), storedBytes });
  const oldest = db.prepare('SELECT id, flows, size FROM chunks ORDER BY id LIMIT ?').raw(true);
  const deleteUpTo = db.prepare('DELETE FROM chunks WHERE id <= ?');
  const expiredChunks = db.prepare('SELECT id, flows, size FROM chunks WHERE max_end_ms < ? ORDER BY id LIMIT ?').raw(true);
  const deleteId = db.prepare('DELETE FROM chunks WHERE id = ?');
  const straddling = db.prepare(`SELECT c.id, e.address, c.flows, c.min_end_ms, c.size, ${CHUNK_COLUMNS.map((c) => `c.${c.column}`).join(', ')} FROM chunks c JOIN exporters e ON e.id = c.exporter WHERE c.max_end_ms >= ? AND c.min_end_ms < ? LIMIT ?`).raw(true);

  const report = (expired: number, vacuumedPages: number): void => {
    if (expired === 0 && vacuumedPages === 0) return;
    db.pragma('wal_checkpoint(PASSIVE)');
    send({ type: 'expired', rows: expired, sizeBytes: fileBytes(init.path), vacuumedPages });
  };
  const vacuum = (): number => {
    const after = planSqliteRetention(Date.now(), dbRetention, snapshot());
    if (after.vacuumPages > 0) db.pragma(`incremental_vacuum(${after.vacuumPages})`);
    return after.vacuumPages;
  };
  /** Size: checked after every write transaction (page counts, cheap); the oldest chunks go until the plan's bytes are gone. */
  const sizeRetention = (): void => {
    if (init.retention.max_bytes <= 0) return;
    try {
      const plan = planSqliteRetention(Date.now(), { ...dbRetention, max_age: 0 }, snapshot());
      let expired = 0;
      let gone = 0;
      while (plan.deleteBytes !== null && gone < plan.deleteBytes) {
        const rows = oldest.all(RETENTION_SLICE) as [number, number, number][];
        if (rows.length === 0) break;
        let last = rows[0]![0];
        for (const [id, flows, size] of rows) {
          if (gone >= plan.deleteBytes) break;
          last = id;
          gone += size;
          expired += flows;
        }
        deleteUpTo.run(last);
      }
      storedBytes -= gone;
      report(expired, vacuum());
    } catch (e) {
      send({ type: 'error', id: null, code: ErrorCodes.FLOWDB_ERR_STORE, message: `size retention: ${errorMessage(e)}` });
    }
  };

  /** Rewrites a chunk without its flows that ended before cutoff; the flows removed. */
  const trim = (row: unknown[], cutoff: number): number => {
    const [id, address, flows, minEndMs, size] = row as [number, string, number, number, number];
    const blobs: Record<string, Uint8Array> = {};
    CHUNK_COLUMNS.forEach((c, k) => (blobs[c.column] = row[5 + k] as Uint8Array));
    const batch = decodeChunk(address, flows, minEndMs, blobs);
    if (batch === null) throw new Error(`flow chunk ${id} is malformed`); // uncoded-error: caught and reported as FLOWDB_ERR_STORE below
    const kept: number[] = [];
    let keptFlows = 0;
    for (let i = 0; i < batch.count; i++) {
      if (batch.endMs[i]! < cutoff) continue;
      addToRuns(kept, i);
      keptFlows++;
    }
    storedBytes -= size;
    if (keptFlows === 0) deleteId.run(id);
    else {
      const c = encodeChunk(idOf(address), [{ batch, runs: kept }]);
      replaceChunk.run(id, c.exporter, c.minEndMs, c.maxEndMs, c.flows, c.size, ...c.blobs);
      storedBytes += c.size;
    }
    return flows - keptFlows;
  };
  let ageBusy = false;
  /** Age: every retentionIntervalMs, a slice of chunks per turn of the event loop so batches get written in between. */
  const ageRetention = async (): Promise<void> => {
    if (ageBusy || init.retention.max_age <= 0) return;
    ageBusy = true;
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      const cutoff = planSqliteRetention(Date.now(), { ...dbRetention, max_bytes: 0 }, snapshot()).endBeforeMs!;
      let expired = 0;
      for (;;) {
        const rows = expiredChunks.all(cutoff, RETENTION_SLICE) as [number, number, number][];
        db.transaction(() => {
          for (const [id, flows, size] of rows) {
            deleteId.run(id);
            expired += flows;
            storedBytes -= size;
          }
        })();
        if (rows.length < RETENTION_SLICE) break;
        await turn();
      }
      for (;;) {
        const rows = straddling.all(cutoff, cutoff, RETENTION_SLICE) as unknown[][];
        db.transaction(() => {
          for (const row of rows) expired += trim(row, cutoff);
        })();
        if (rows.length < RETENTION_SLICE) break;
        await turn();
      }
      report(expired, vacuum());
    } catch (e) {
      send({ type: 'error', id: null, code: ErrorCodes.FLOWDB_ERR_STORE, message: `age retention: ${errorMessage(e)}` });
    } finally {
      ageBusy = false;
    }
  };

  const flushPending = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pendingRows === 0) return;
    const batches = pending;
    const rows = pendingRows;
    pending = [];
    pendingRows = 0;
    const before = storedBytes;
    // SQLite copied what it stored (bound BLOBs are copied): the batches' buffers can go back
    const spent = (): ArrayBuffer[] => [...new Set(batches.flatMap(flowBatchBuffers))].slice(0, MAX_SPENT);
    try {
      writeAll(batches);
      const buffers = spent();
      send({ type: 'written', rows, sizeBytes: fileBytes(init.path), spent: buffers }, buffers);
      sizeRetention();
    } catch (e) {
      exporterIds.clear(); // the transaction may have rolled back new exporters
      storedBytes = before;
      const buffers = spent();
      send({ type: 'failed', rows, message: errorMessage(e), spent: buffers }, buffers);
    }
  };

  // due age retention also runs after a write: under steady input the port's messages can keep
  // the worker busy past its timers
  let ageDueAt = Date.now() + init.retentionIntervalMs;
  const ageIfDue = (): void => {
    if (Date.now() < ageDueAt) return;
    ageDueAt = Date.now() + init.retentionIntervalMs;
    void ageRetention();
  };
  const retentionTimer = setInterval(() => {
    ageIfDue();
    sizeRetention();
  }, init.retentionIntervalMs);

  port.on('message', (m: ToWriter) => {
    switch (m.type) {
      case 'batch':
        pending.push(m.batch);
        pendingRows += m.batch.count;
        if (pendingRows >= init.batchSize) flushPending();
        else timer ??= setTimeout(flushPending, init.flushIntervalMs);
        ageIfDue();
        return;
      case 'flush':
        flushPending();
        send({ type: 'flushed', id: m.id });
        return;
      case 'close':
        flushPending();
        clearInterval(retentionTimer);
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        send({ type: 'closed' });
        port.close();
        return;
    }
  });
  void ageRetention();
  sizeRetention();
  send({ type: 'ready', sizeBytes: fileBytes(init.path) });
}
