/**
 * The SQLite flow database in a worker thread (one writer, one reader per store): this entry
 * opens the database (creating the chunked schema in a new file, refusing an old or foreign one)
 * and runs the role it was started for (sqlite-writer.ts, sqlite-reader.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AppError, ErrorCodes, errorMessage, isAppError } from '../../lib/errors.js';
import type { FromWorker, WorkerInit } from './sqlite-protocol.js';
import { runReader } from './sqlite-reader.js';
import { SQLITE_PRAGMAS, SQLITE_ROW_LAYOUT_VERSION, SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION } from './sqlite-sql.js';
import { runWriter } from './sqlite-writer.js';

/**
 * Opens (and with `create`, sets up) the database: FLOWDB_ERR_LAYOUT for a database of the
 * row-per-flow layout, FLOWDB_ERR_STORE for a file that is not a flow database or of a newer schema.
 */
export function openFlowDatabase(path: string, create: boolean): Database.Database {
  let db: Database.Database | null = null;
  try {
    db = create ? new Database(path) : new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    // the chunk index and the recent pages stay in memory; reads of older pages go through mmap
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    if (tables.length === 0 && create) {
      for (const p of SQLITE_PRAGMAS) db.pragma(p);
      const setup = db;
      setup.transaction(() => {
        setup.exec(SQLITE_SCHEMA);
        setup.prepare("INSERT INTO wireprobe_meta (key, value) VALUES ('schema_version', ?)").run(String(SQLITE_SCHEMA_VERSION));
        setup.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
      })();
    }
    const row = tables.length === 0 && !create ? undefined : (db.prepare("SELECT value FROM wireprobe_meta WHERE key = 'schema_version'").get() as { value: string } | undefined);
    const version = row === undefined ? null : Number(row.value);
    if (version === SQLITE_ROW_LAYOUT_VERSION) {
      throw new AppError(
        ErrorCodes.FLOWDB_ERR_LAYOUT,
        `${path} holds flows in the row-per-flow layout (schema ${SQLITE_ROW_LAYOUT_VERSION}); this wireprobe stores chunks (schema ${SQLITE_SCHEMA_VERSION}) and does not convert it: ` +
          'move the file aside (the older wireprobe or sqlite3 still read it) or set flows.sqlite.path to a new file',
      );
    }
    if (version !== SQLITE_SCHEMA_VERSION) {
      throw new AppError(ErrorCodes.FLOWDB_ERR_STORE, `${path} is not a wireprobe flow database of schema ${SQLITE_SCHEMA_VERSION}`);
    }
    return db;
  } catch (e) {
    db?.close();
    if (isAppError(e)) throw e;
    throw new AppError(ErrorCodes.FLOWDB_ERR_STORE, `flow database ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

const port = parentPort!;
const send = (m: FromWorker): void => port.postMessage(m);
const init = workerData as WorkerInit;
try {
  if (init.role === 'writer') runWriter(init, openFlowDatabase(init.path, true), port);
  else runReader(init, openFlowDatabase(init.path, false), port);
} catch (e) {
  send({ type: 'error', id: null, code: isAppError(e) ? e.code : ErrorCodes.FLOWDB_ERR_STORE, message: errorMessage(e) });
  port.close();
}
