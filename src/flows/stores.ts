/**
 * The flow stores a collector feeds, opened from its config: the PostgreSQL sink first (it copies
 * what it keeps), then the SQLite store (its write() takes the batch's buffers over), and the
 * queryable side the API reads, which answers FLOWDB_ERR_STORE while no SQLite store is open.
 * The PostgreSQL sink (and the `pg` client with it) is imported only when the config has one, so
 * a SQLite-only collector never loads it (the memory floor, issue 14).
 */
import type { FlowsConfig } from '../config/types.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { openSqliteFlowStore, type SqliteFlowStore } from './store/sqlite.js';
import type { FlowQueryable, FlowSink } from './types.js';

export interface FlowStores {
  /** opens the configured stores, in the order the collector must write to them */
  open(config: FlowsConfig): Promise<FlowSink[]>;
  /** queries the SQLite store once it is open */
  readonly queryable: FlowQueryable;
}

export function createFlowStores(log: Logger): FlowStores {
  let sqlite: SqliteFlowStore | null = null;
  return {
    async open(config) {
      const sinks: FlowSink[] = [];
      if (config.postgres !== null) {
        const { createPostgresFlowSink } = await import('./store/postgres.js');
        sinks.push(createPostgresFlowSink({ config: config.postgres, log: log.child('postgres') }));
      }
      if (config.sqlite !== null) {
        sqlite = await openSqliteFlowStore({ config: config.sqlite, log: log.child('sqlite') });
        sinks.push(sqlite);
      }
      return sinks;
    },
    queryable: {
      query(spec, timeoutMs) {
        if (sqlite === null) {
          return Promise.reject(new AppError(ErrorCodes.FLOWDB_ERR_STORE, 'no flow store to query: flows.sqlite is null, or the collector has not started'));
        }
        return sqlite.query(spec, timeoutMs);
      },
    },
  };
}
