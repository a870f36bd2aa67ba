/**
 * The SQLite flow database in a worker thread (one writer, one reader per store): the writer
 * receives FlowBatch columns by transfer, gathers them into transactions of `batchSize` rows
 * (or what arrived within `flushIntervalMs`) written with prepared multi-row INSERTs, and runs
 * retention; the reader answers queries on a read-only connection (WAL: readers never block the
 * writer), each interrupted by a per-row deadline function once its timeout has passed.
 */
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AppError, ErrorCodes, errorMessage, isAppError } from '../../lib/errors.js';
import type { FlowBatch } from '../../packet/flow/types.js';
import { flowAddressText, isAbsentAddress } from '../flow-address.js';
import type { FlowQueryResult, FlowQueryRow, FlowQuerySpec } from '../types.js';
import { planSqliteRetention } from './retention.js';
import type { FromWorker, ReaderInit, ToReader, ToWriter, WorkerInit, WriterInit } from './sqlite-protocol.js';
import { ADDRESS_COLUMNS, ALIVE_FUNCTION, INSERT_COLUMNS, SQLITE_PRAGMAS, SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION, groupKeyColumns, insertSql, querySql } from './sqlite-sql.js';

const port = parentPort!;
const send = (m: FromWorker): void => port.postMessage(m);
/** rows per multi-row INSERT statement (22 parameters each) */
const ROWS_PER_STATEMENT = 64;

function fileBytes(path: string): number {
  let n = 0;
  for (const suffix of ['', '-wal']) {
    try {
      n += statSync(path + suffix).size;
    } catch {
      // no WAL file (yet)
    }
  }
  return n;
}

/** Opens (and with `create`, sets up) the database; FLOWDB_ERR_STORE when it is not a flow database of a version we read. */
function open(path: string, create: boolean): Database.Database {
  let db: Database.Database | null = null;
  try {
    db = create ? new Database(path) : new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    // the time index and the recent pages stay in memory; reads of older pages go through mmap
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    if (create) {
      for (const p of SQLITE_PRAGMAS) db.pragma(p);
      db.exec(SQLITE_SCHEMA);
      db.prepare("INSERT OR IGNORE INTO wireprobe_meta (key, value) VALUES ('schema_version', ?)").run(String(SQLITE_SCHEMA_VERSION));
    }
    const row = db.prepare("SELECT value FROM wireprobe_meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (row === undefined || Number(row.value) > SQLITE_SCHEMA_VERSION) {
      throw new AppError(ErrorCodes.FLOWDB_ERR_STORE, `${path} is not a wireprobe flow database of schema ${SQLITE_SCHEMA_VERSION} or older`);
    }
    return db;
  } catch (e) {
    db?.close();
    if (isAppError(e)) throw e;
    throw new AppError(ErrorCodes.FLOWDB_ERR_STORE, `flow database ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

function runWriter(init: WriterInit): void {
  const db = open(init.path, true);
  // the WAL counts towards max_bytes: checkpoint and truncate it at an eighth of the limit
  const walBytes = init.retention.max_bytes > 0 ? Math.max(256 << 10, Math.floor(init.retention.max_bytes / 8)) : 64 << 20;
  db.pragma(`journal_size_limit = ${walBytes}`);
  db.pragma(`wal_autocheckpoint = ${Math.min(1000, Math.max(64, Math.floor(walBytes / 4096)))}`);
  // the database file gets what the WAL (up to its limit plus a transaction) leaves of max_bytes
  const dbRetention = { ...init.retention, max_bytes: init.retention.max_bytes > 0 ? Math.max(1, init.retention.max_bytes - 2 * walBytes) : 0 };
  const many = db.prepare(insertSql(ROWS_PER_STATEMENT));
  const one = db.prepare(insertSql(1));
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
  const width = INSERT_COLUMNS.length;
  const params: unknown[] = new Array<unknown>(ROWS_PER_STATEMENT * width);
  let pending: FlowBatch[] = [];
  let pendingRows = 0;
  let timer: NodeJS.Timeout | null = null;

  const insertBatch = (b: FlowBatch): void => {
    const ids = b.exporters.map(idOf);
    const address = (col: Uint8Array, i: number): Buffer => Buffer.from(col.buffer, col.byteOffset + i * 16, 16);
    let k = 0;
    for (let i = 0; i < b.count; i++) {
      params[k++] = Math.round(b.endMs[i]!);
      params[k++] = Math.round(b.startMs[i]!);
      params[k++] = ids[b.exporter[i]!] ?? 0;
      params[k++] = b.version[i];
      params[k++] = b.domain[i];
      params[k++] = address(b.src, i);
      params[k++] = address(b.dst, i);
      params[k++] = isAbsentAddress(b.nextHop, i * 16) ? null : address(b.nextHop, i);
      params[k++] = b.srcPort[i];
      params[k++] = b.dstPort[i];
      params[k++] = b.proto[i];
      params[k++] = b.tcpFlags[i];
      params[k++] = b.tos[i];
      params[k++] = b.inIf[i];
      params[k++] = b.outIf[i];
      params[k++] = b.srcAs[i];
      params[k++] = b.dstAs[i];
      params[k++] = b.bytes[i];
      params[k++] = b.packets[i];
      params[k++] = b.rawBytes[i];
      params[k++] = b.rawPackets[i];
      params[k++] = b.samplingRate[i];
      if (k === params.length) {
        many.run(params);
        k = 0;
      }
    }
    for (let start = 0; start < k; start += width) one.run(params.slice(start, start + width));
  };
  const writeAll = db.transaction((batches: FlowBatch[]) => {
    for (const b of batches) insertBatch(b);
  });

  const flushPending = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pendingRows === 0) return;
    const batches = pending;
    const rows = pendingRows;
    pending = [];
    pendingRows = 0;
    try {
      writeAll(batches);
      send({ type: 'written', rows, sizeBytes: fileBytes(init.path) });
      sizeRetention();
    } catch (e) {
      exporterIds.clear(); // the transaction may have rolled back new exporters
      send({ type: 'failed', rows, message: errorMessage(e) });
    }
  };

  const space = db.prepare(
    'SELECT (SELECT page_size FROM pragma_page_size) AS pageSize, (SELECT page_count FROM pragma_page_count) AS pageCount, ' +
      '(SELECT freelist_count FROM pragma_freelist_count) AS freelistCount, (SELECT min(id) FROM flows) AS minId, (SELECT max(id) FROM flows) AS maxId',
  );
  const deleteOld = db.prepare('DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE end_ms < ? LIMIT ?)');
  const deleteIds = db.prepare('DELETE FROM flows WHERE id < ?');
  type Space = Parameters<typeof planSqliteRetention>[2];
  const report = (expired: number, vacuumedPages: number): void => {
    if (expired === 0 && vacuumedPages === 0) return;
    db.pragma('wal_checkpoint(PASSIVE)');
    send({ type: 'expired', rows: expired, sizeBytes: fileBytes(init.path), vacuumedPages });
  };
  /**
   * Size: checked after every write transaction (a few page counts, cheap), so each deletion
   * is a small slice of the oldest rows, in chunks that keep the WAL within its share; pages
   * freed are reused by inserts, and what the plan says is handed back to the file system.
   */
  const sizeRetention = (): void => {
    if (init.retention.max_bytes <= 0) return;
    try {
      const plan = planSqliteRetention(Date.now(), { ...dbRetention, max_age: 0 }, space.get() as Space);
      let expired = 0;
      const start = plan.idBelow === null ? null : (space.get() as Space).minId;
      if (plan.idBelow !== null && start !== null) {
        for (let bound = start + init.deleteChunkRows; ; bound += init.deleteChunkRows) {
          const below = Math.min(bound, plan.idBelow);
          expired += deleteIds.run(below).changes;
          if (below >= plan.idBelow) break;
        }
      }
      const after = planSqliteRetention(Date.now(), { ...dbRetention, max_age: 0 }, space.get() as Space);
      if (after.vacuumPages > 0) db.pragma(`incremental_vacuum(${after.vacuumPages})`);
      report(expired, after.vacuumPages);
    } catch (e) {
      send({ type: 'error', id: null, code: ErrorCodes.FLOWDB_ERR_STORE, message: `size retention: ${errorMessage(e)}` });
    }
  };
  let ageBusy = false;
  /** Age: every retentionIntervalMs, one chunk per turn of the event loop so batches get written in between. */
  const ageRetention = async (): Promise<void> => {
    if (ageBusy || init.retention.max_age <= 0) return;
    ageBusy = true;
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      const plan = planSqliteRetention(Date.now(), { ...dbRetention, max_bytes: 0 }, space.get() as Space);
      let expired = 0;
      if (plan.endBeforeMs !== null) {
        for (;;) {
          const n = deleteOld.run(plan.endBeforeMs, init.deleteChunkRows).changes;
          expired += n;
          if (n < init.deleteChunkRows) break;
          await turn();
        }
      }
      const after = planSqliteRetention(Date.now(), dbRetention, space.get() as Space);
      if (after.vacuumPages > 0) db.pragma(`incremental_vacuum(${after.vacuumPages})`);
      report(expired, after.vacuumPages);
    } catch (e) {
      send({ type: 'error', id: null, code: ErrorCodes.FLOWDB_ERR_STORE, message: `age retention: ${errorMessage(e)}` });
    } finally {
      ageBusy = false;
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

function runReader(init: ReaderInit): void {
  const db = open(init.path, false);
  let deadline = Infinity;
  let calls = 0;
  db.function(ALIVE_FUNCTION, { deterministic: false, varargs: false }, () => {
    if ((++calls & 255) === 0 && Date.now() > deadline) throw new AppError(ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT, 'flow query timed out');
    return 1;
  });
  const toRow = (raw: Record<string, unknown>, keys: readonly string[]): FlowQueryRow => {
    const key: Record<string, string | number> = {};
    for (const k of keys) {
      const v = raw[k];
      if (ADDRESS_COLUMNS.has(k)) key[k] = v instanceof Uint8Array ? flowAddressText(v) : '';
      else if (k === 'end_ms' || k === 'start_ms') key[k === 'end_ms' ? 'end' : 'start'] = new Date(Number(v)).toISOString();
      else key[k] = typeof v === 'number' || typeof v === 'string' ? v : Number(v ?? 0);
    }
    return { key, flows: Number(raw['flows']), bytes: Number(raw['bytes']), packets: Number(raw['packets']) };
  };
  const run = (spec: FlowQuerySpec, deadlineMs: number): FlowQueryResult => {
    const timeout = (): AppError => new AppError(ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT, 'the flow query did not finish within its timeout');
    if (Date.now() >= deadlineMs) throw timeout();
    const sql = querySql(spec);
    deadline = deadlineMs;
    calls = 0;
    try {
      return db.transaction(() => {
        const t = db.prepare(sql.totals.text).get(...sql.totals.params) as { flows: number; bytes: number; packets: number };
        const rows = (db.prepare(sql.rows.text).all(...sql.rows.params) as Record<string, unknown>[]).map((r) => toRow(r, groupKeyColumns(spec.groupBy)));
        return { rows, totals: { flows: t.flows, bytes: t.bytes, packets: t.packets } };
      })();
    } catch (e) {
      if (Date.now() > deadline) throw timeout();
      throw e;
    } finally {
      deadline = Infinity;
    }
  };
  port.on('message', (m: ToReader) => {
    if (m.type === 'close') {
      db.close();
      send({ type: 'closed' });
      port.close();
      return;
    }
    try {
      send({ type: 'result', id: m.id, result: run(m.spec, m.deadlineMs) });
    } catch (e) {
      const code = isAppError(e) ? e.code : ErrorCodes.FLOWDB_ERR_STORE;
      send({ type: 'error', id: m.id, code, message: errorMessage(e) });
    }
  });
  send({ type: 'ready', sizeBytes: fileBytes(init.path) });
}

const init = workerData as WorkerInit;
try {
  if (init.role === 'writer') runWriter(init);
  else runReader(init);
} catch (e) {
  send({ type: 'error', id: null, code: isAppError(e) ? e.code : ErrorCodes.FLOWDB_ERR_STORE, message: errorMessage(e) });
  port.close();
}
