/**
 * The embedded SQLite flow store: a FlowSink whose inserts run in a dedicated worker thread
 * (batches handed over by transfer, a bounded queue that drops and counts instead of blocking),
 * and a FlowQueryable whose queries run in a second, read-only worker, each bounded by its
 * timeout. openSqliteFlowReader opens the query side alone (the CLI, on a database another
 * process writes).
 */
import { Worker } from 'node:worker_threads';
import type { FlowSqliteConfig } from '../../config/types.js';
import { AppError, ErrorCodes, isAppError, type ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { flowBatchBuffers } from '../../packet/flow/batch.js';
import type { FlowBatch } from '../../packet/flow/types.js';
import type { FlowQueryable, FlowQueryResult, FlowQuerySpec, FlowSink, FlowSinkStats } from '../types.js';
import type { FromWorker, ReaderInit, ToReader, ToWriter, WorkerInit, WriterInit } from './sqlite-protocol.js';

const WORKER_URL = new URL('./sqlite-worker.js', import.meta.url);
/** batch buffers the writer sent back, kept for the collector to decode into */
const MAX_SPARES = 4;
/** how long after its deadline a query may stay unanswered before its worker is replaced */
const QUERY_GRACE_MS = 1000;

export interface FlowStoreStats extends FlowSinkStats {
  /** rows lost after they were queued: a failed transaction or statement, a lost connection */
  readonly failed: number;
}

export interface SqliteFlowStoreOptions {
  readonly config: FlowSqliteConfig;
  readonly log: Logger;
  /**
   * rows queued and not yet committed beyond which batches are dropped (default: 50 × batch_size,
   * at least 500 000: about 0.8 s at 600 000 flows/s, up to ~75 MB of queued columns; at 200 000
   * the store dropped 5 % of 20 000 datagrams/s of 30 flows on a loaded 2-core machine while its
   * writer, on average, kept up: single transactions of 15 000 rows stalled for up to 0.3 s)
   */
  readonly maxQueuedRows?: number;
  /** default 10 s */
  readonly retentionIntervalMs?: number;
  /** default 10 s */
  readonly openTimeoutMs?: number;
  /** queries waiting for the reader beyond which query() answers FLOWDB_ERR_BUSY (default 8) */
  readonly maxQueuedQueries?: number;
}

export interface SqliteFlowStore extends FlowSink, FlowQueryable {
  stats(): FlowStoreStats;
  /** a written batch's buffer, sent back by the writer (at most MAX_SPARES kept) */
  takeSpare(): ArrayBuffer | undefined;
}

export interface FlowReader extends FlowQueryable {
  close(timeoutMs: number): Promise<void>;
}

const timeoutError = (what: string, ms: number, code: ErrorCode = ErrorCodes.OP_ERR_TIMEOUT): AppError =>
  new AppError(code, `${what} did not finish within ${ms} ms`);

/** Starts a database worker and waits for it to be ready (FLOWDB_ERR_STORE when it cannot open the database). */
function startWorker(init: WorkerInit, timeoutMs: number): Promise<{ worker: Worker; sizeBytes: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: init });
    const done = (e: AppError | null, sizeBytes = 0): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (e === null) resolve({ worker, sizeBytes });
      else {
        void worker.terminate();
        reject(e);
      }
    };
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'ready') done(null, m.sizeBytes);
      else if (m.type === 'error') done(new AppError(m.code as ErrorCode, m.message));
    };
    const onError = (e: Error): void => done(new AppError(ErrorCodes.FLOWDB_ERR_STORE, `flow database worker: ${e.message}`, { cause: e }));
    const onExit = (code: number): void => done(new AppError(ErrorCodes.FLOWDB_ERR_STORE, `flow database worker exited (${code}) while opening ${init.path}`));
    const timer = setTimeout(() => done(timeoutError(`opening the flow database ${init.path}`, timeoutMs, ErrorCodes.FLOWDB_ERR_STORE)), timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

interface PendingQuery {
  readonly resolve: (r: FlowQueryResult) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/** The read-only query worker, started on first use and replaced when one hangs past its deadline. */
class QueryRunner implements FlowReader {
  #worker: Promise<Worker> | null = null;
  readonly #pending = new Map<number, PendingQuery>();
  #nextId = 1;
  #closed = false;

  constructor(
    private readonly path: string,
    private readonly openTimeoutMs: number,
    private readonly maxQueued: number,
    private readonly log: Logger,
  ) {}

  #start(): Promise<Worker> {
    if (this.#worker !== null) return this.#worker;
    const init: ReaderInit = { role: 'reader', path: this.path };
    const started = startWorker(init, this.openTimeoutMs).then(({ worker }) => {
      worker.on('message', (m: FromWorker) => this.#onMessage(m));
      worker.on('error', (e) => this.#fail(worker, new AppError(ErrorCodes.FLOWDB_ERR_STORE, `flow query worker: ${e.message}`)));
      worker.on('exit', () => this.#fail(worker, new AppError(ErrorCodes.FLOWDB_ERR_STORE, 'the flow query worker stopped')));
      worker.unref();
      return worker;
    });
    this.#worker = started;
    started.catch(() => {
      if (this.#worker === started) this.#worker = null;
    });
    return started;
  }

  #onMessage(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    if (m.id === null) return;
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.type === 'result') p.resolve(m.result);
    else p.reject(new AppError(m.code as ErrorCode, m.message));
  }

  /** Forgets the worker and fails what it had (a newer worker's queries are left alone). */
  #fail(worker: Worker, e: AppError): void {
    void this.#worker?.then((current) => {
      if (current !== worker) return;
      this.#worker = null;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(e);
        this.#pending.delete(id);
      }
    });
  }

  async query(spec: FlowQuerySpec, timeoutMs: number): Promise<FlowQueryResult> {
    if (this.#closed) throw new AppError(ErrorCodes.FLOWDB_ERR_BUSY, 'the flow store is closing');
    if (this.#pending.size >= this.maxQueued) throw new AppError(ErrorCodes.FLOWDB_ERR_BUSY, `${this.maxQueued} flow queries are already waiting`);
    const deadlineMs = Date.now() + timeoutMs;
    const worker = await this.#start();
    const id = this.#nextId++;
    return new Promise<FlowQueryResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        // the worker did not even interrupt the statement: replace it
        this.#pending.delete(id);
        reject(timeoutError('the flow query', timeoutMs, ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT));
        this.log.warn('flow query worker unresponsive past its deadline; replacing it', { timeout_ms: timeoutMs });
        this.#fail(worker, new AppError(ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT, 'the flow query worker was replaced after a query overran'));
        void worker.terminate();
      }, Math.max(0, deadlineMs - Date.now()) + QUERY_GRACE_MS);
      this.#pending.set(id, { resolve, reject, timer });
      const message: ToReader = { type: 'query', id, spec, deadlineMs };
      worker.postMessage(message);
    });
  }

  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const started = this.#worker;
    this.#worker = null;
    if (started === null) return;
    const worker = await started.catch(() => null);
    if (worker === null) return;
    const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ToReader);
    const timer = setTimeout(() => void worker.terminate(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }
}

/** The query side of a flow database alone, read-only (FLOWDB_ERR_STORE when the file is missing or not a flow database). */
export async function openSqliteFlowReader(
  path: string,
  opts: { readonly log: Logger; readonly openTimeoutMs?: number; readonly maxQueuedQueries?: number },
): Promise<FlowReader> {
  const reader = new QueryRunner(path, opts.openTimeoutMs ?? 10_000, opts.maxQueuedQueries ?? 8, opts.log);
  // open now, so a missing or foreign file is reported at once
  await reader.query({ fromMs: 0, toMs: 1, filter: {}, orderBy: 'flows', limit: 1 }, opts.openTimeoutMs ?? 10_000);
  return reader;
}

export async function openSqliteFlowStore(opts: SqliteFlowStoreOptions): Promise<SqliteFlowStore> {
  const { config, log } = opts;
  const openTimeoutMs = opts.openTimeoutMs ?? 10_000;
  const maxQueuedRows = opts.maxQueuedRows ?? Math.max(500_000, config.batch_size * 50);
  const init: WriterInit = {
    role: 'writer',
    path: config.path,
    retention: config.retention,
    batchSize: config.batch_size,
    flushIntervalMs: config.flush_interval * 1000,
    retentionIntervalMs: opts.retentionIntervalMs ?? 10_000,
  };
  const { worker, sizeBytes: size0 } = await startWorker(init, openTimeoutMs);
  const reader = new QueryRunner(config.path, openTimeoutMs, opts.maxQueuedQueries ?? 8, log);
  let written = 0;
  let dropped = 0;
  let expired = 0;
  let failed = 0;
  let queued = 0;
  let sizeBytes = size0;
  let state: 'open' | 'closing' | 'dead' = 'open';
  let nextFlush = 1;
  const spares: ArrayBuffer[] = [];
  const keep = (spent: readonly ArrayBuffer[]): void => {
    for (const b of spent) if (spares.length < MAX_SPARES) spares.push(b);
  };
  const flushes = new Map<number, () => void>();
  let closed: (() => void) | null = null;

  worker.on('message', (m: FromWorker) => {
    switch (m.type) {
      case 'written':
        written += m.rows;
        queued -= m.rows;
        sizeBytes = m.sizeBytes;
        keep(m.spent);
        return;
      case 'failed':
        failed += m.rows;
        queued -= m.rows;
        keep(m.spent);
        log.error('flow store: a batch could not be written', { rows: m.rows, reason: m.message });
        return;
      case 'expired':
        expired += m.rows;
        sizeBytes = m.sizeBytes;
        log.debug('flow store: retention', { rows: m.rows, size_bytes: m.sizeBytes, vacuumed_pages: m.vacuumedPages });
        return;
      case 'flushed':
        flushes.get(m.id)?.();
        flushes.delete(m.id);
        return;
      case 'error':
        log.error('flow store error', { code: m.code, reason: m.message });
        return;
      case 'closed':
        closed?.();
        return;
      case 'ready':
      case 'result':
        return;
    }
  });
  const dead = (why: string): void => {
    if (state === 'dead') return;
    if (state === 'open') log.error('flow store: the database worker stopped; flows are no longer stored', { reason: why });
    state = 'dead';
    failed += queued;
    queued = 0;
    closed?.();
  };
  worker.on('error', (e) => dead(e.message));
  worker.on('exit', (code) => dead(`exit ${code}`));

  const post = (m: ToWriter, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
  const bounded = <T>(what: string, timeoutMs: number, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeoutError(what, timeoutMs)), timeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  };

  return {
    name: 'sqlite',
    write(batch: FlowBatch): void {
      if (batch.count === 0) return;
      if (state !== 'open' || queued + batch.count > maxQueuedRows) {
        dropped += batch.count;
        return;
      }
      queued += batch.count;
      post({ type: 'batch', batch }, flowBatchBuffers(batch));
    },
    flush(timeoutMs: number): Promise<void> {
      if (state !== 'open') return Promise.reject(new AppError(ErrorCodes.FLOWDB_ERR_STORE, 'the flow store is not open'));
      const id = nextFlush++;
      const done = new Promise<void>((resolve) => flushes.set(id, resolve));
      post({ type: 'flush', id });
      return bounded('flushing the flow store', timeoutMs, done).finally(() => flushes.delete(id));
    },
    async close(timeoutMs: number): Promise<void> {
      if (state !== 'open') return;
      state = 'closing';
      const started = Date.now();
      await reader.close(timeoutMs);
      const done = new Promise<void>((resolve) => {
        closed = resolve;
      });
      post({ type: 'close' });
      try {
        await bounded('closing the flow store', Math.max(1, timeoutMs - (Date.now() - started)), done);
      } catch (e) {
        if (!isAppError(e, ErrorCodes.OP_ERR_TIMEOUT)) throw e;
        log.warn('flow store: the database worker did not close in time; stopping it');
        throw e;
      } finally {
        state = 'dead';
        await worker.terminate();
      }
    },
    stats: () => ({ written, dropped, expired, queued, sizeBytes, failed }),
    takeSpare: () => spares.pop(),
    query: (spec, timeoutMs) => reader.query(spec, timeoutMs),
  };
}
