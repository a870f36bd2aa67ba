/**
 * The PostgreSQL flow sink: batches queued by write() (a copy is kept, so the caller's buffers
 * stay its own; bounded, dropping and counting when full), inserted by one background loop with
 * one `INSERT … SELECT FROM unnest` per batch_size rows into a table partitioned by end time.
 * Partitions are created ahead (and on demand for late flows); retention drops whole partitions
 * by age and by size. Connection failures are retried with backoff and counted; nothing is
 * thrown into the collector. The URL (and its password) never reaches a log line.
 */
import pg from 'pg';
import type { FlowPostgresConfig } from '../../config/types.js';
import { AppError, ErrorCodes, errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { FlowBatch } from '../../packet/flow/types.js';
import type { FlowSink } from '../types.js';
import { copyFlowBatch } from './batch-transfer.js';
import {
  createPartitionSql,
  insertColumns,
  parsePartitionBound,
  partitionStart,
  PG_INSERT,
  PG_LIST_PARTITIONS,
  PG_SCHEMA,
  PG_TABLE,
} from './postgres-sql.js';
import { planPartitionRetention, type Partition } from './retention.js';
import type { FlowStoreStats } from './sqlite.js';

export interface PostgresFlowSinkOptions {
  readonly config: FlowPostgresConfig;
  readonly log: Logger;
  /** rows queued beyond which batches are dropped (default: 20 × batch_size, at least 100 000) */
  readonly maxQueuedRows?: number;
  /** default 60 s */
  readonly retentionIntervalMs?: number;
  /** connect and per-statement bound (default 10 s and 30 s) */
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  /** first and longest delay between connection attempts (default 500 ms, 30 s) */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Unix ms (tests move it) */
  readonly wallMs?: () => number;
}

export interface PostgresFlowSink extends FlowSink {
  stats(): FlowStoreStats & { readonly connected: boolean; readonly errors: number };
  /** one retention pass now (also run every retentionIntervalMs) */
  retention(): Promise<void>;
}

/** Messages of pg errors, with the connection URL and its password cut out. */
export function redact(message: string, url: string): string {
  let out = message.split(url).join('<url>');
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') out = out.split(password).join('<password>');
  } catch {
    // not a URL: only the whole text is cut
  }
  return out;
}

/** Connection-level failure (retry after reconnecting) rather than a statement the server refused. */
function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // ECONNREFUSED, timeouts, "Connection terminated"
  return code.startsWith('08') || code.startsWith('57P') || code === '53300';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createPostgresFlowSink(opts: PostgresFlowSinkOptions): PostgresFlowSink {
  const { config, log } = opts;
  const wallMs = opts.wallMs ?? ((): number => Date.now());
  const intervalMs = config.partition_interval * 1000;
  const maxQueuedRows = opts.maxQueuedRows ?? Math.max(100_000, config.batch_size * 20);
  const say = (e: unknown): string => redact(errorMessage(e), config.url);

  const queue: FlowBatch[] = [];
  let queued = 0;
  let written = 0;
  let dropped = 0;
  let expired = 0;
  let failed = 0;
  let errors = 0;
  let sizeBytes = 0;
  let client: pg.Client | null = null;
  let connected = false;
  let closing = false;
  let wake: (() => void) | null = null;
  let drained: (() => void)[] = [];
  const partitions = new Set<number>();
  /** inserts (multi-statement transactions) and retention take turns on the one connection */
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = turn.then(fn, fn);
    turn = next.catch(() => undefined);
    return next;
  };

  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({
      connectionString: config.url,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      application_name: 'wireprobe',
    });
    c.on('error', (e) => {
      errors++;
      log.warn('flow sink postgres: connection error', { reason: say(e) });
      connected = false;
    });
    try {
      await c.connect();
      await c.query("SET TIME ZONE 'UTC'");
      await c.query(PG_SCHEMA);
    } catch (e) {
      void c.end().catch(() => undefined);
      throw e;
    }
    partitions.clear();
    const list = await c.query<{ name: string; bound: string }>(PG_LIST_PARTITIONS);
    for (const row of list.rows) {
      const b = parsePartitionBound(row.bound);
      if (b !== null && b.toMs - b.fromMs === intervalMs) partitions.add(b.fromMs);
    }
    return c;
  };

  const ensurePartition = async (c: pg.Client, start: number): Promise<void> => {
    if (partitions.has(start)) return;
    await c.query(createPartitionSql(start, intervalMs));
    partitions.add(start);
  };

  /** Partitions for now and the next two intervals. */
  const ahead = async (c: pg.Client): Promise<void> => {
    const now = partitionStart(wallMs(), intervalMs);
    for (let k = 0; k < 3; k++) await ensurePartition(c, now + k * intervalMs);
  };

  /** The next rows to insert (at most batch_size, whole batches at the head of the queue). */
  const take = (): { batches: FlowBatch[]; rows: number } => {
    const batches: FlowBatch[] = [];
    let rows = 0;
    while (queue.length > 0 && (rows === 0 || rows + queue[0]!.count <= config.batch_size)) {
      const b = queue.shift()!;
      batches.push(b);
      rows += b.count;
    }
    return { batches, rows };
  };

  const insert = async (c: pg.Client, batches: readonly FlowBatch[]): Promise<void> => {
    const horizon = config.retention.max_age > 0 ? wallMs() - config.retention.max_age * 1000 : -Infinity;
    const future = partitionStart(wallMs(), intervalMs) + 3 * intervalMs;
    await c.query('BEGIN');
    try {
      for (const b of batches) {
        const keep: number[] = [];
        for (let i = 0; i < b.count; i++) {
          const end = b.endMs[i]!;
          if (end < horizon) expired++; // older than retention: it would be dropped at once
          else if (!(end < future)) failed++; // an exporter clock far ahead: no partition is made for it
          else keep.push(i);
        }
        const starts = new Set(keep.map((i) => partitionStart(b.endMs[i]!, intervalMs)));
        for (const s of starts) await ensurePartition(c, s);
        if (keep.length > 0) await c.query(PG_INSERT, insertColumns(b, keep));
        written += keep.length;
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  };

  const notifyDrained = (): void => {
    if (queued > 0) return;
    const waiting = drained;
    drained = [];
    for (const f of waiting) f();
  };

  const loop = async (): Promise<void> => {
    let delay = opts.reconnectMinMs ?? 500;
    while (!closing || queued > 0) {
      if (client === null || !connected) {
        if (client !== null) void client.end().catch(() => undefined);
        client = null;
        try {
          client = await connect();
          connected = true;
          delay = opts.reconnectMinMs ?? 500;
          await ahead(client);
          log.info('flow sink postgres: connected');
          void retention();
        } catch (e) {
          errors++;
          log.warn('flow sink postgres: cannot connect; retrying', { reason: say(e), retry_ms: delay });
          if (closing) break;
          await sleep(delay);
          delay = Math.min(delay * 2, opts.reconnectMaxMs ?? 30_000);
          continue;
        }
      }
      if (queue.length === 0) {
        notifyDrained();
        if (closing) break;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, config.flush_interval * 1000);
        });
        clearTimeout(timer);
        wake = null;
        continue;
      }
      const { batches, rows } = take();
      try {
        const c = client;
        await exclusive(() => insert(c, batches));
        queued -= rows;
      } catch (e) {
        errors++;
        if (isConnectionError(e)) {
          // keep the rows for the next connection (written counts only committed rows)
          queue.unshift(...batches);
          connected = false;
          log.warn('flow sink postgres: insert failed; reconnecting', { reason: say(e) });
        } else {
          queued -= rows;
          failed += rows;
          log.error('flow sink postgres: the server refused a batch', { rows, reason: say(e) });
        }
      }
      notifyDrained();
    }
    if (client !== null) await client.end().catch(() => undefined);
    client = null;
    connected = false;
  };

  const retention = (): Promise<void> => exclusive(retentionPass);
  const retentionPass = async (): Promise<void> => {
    const c = client;
    if (c === null || !connected) return;
    try {
      await ahead(c);
      const list = await c.query<{ name: string; bound: string; bytes: number; rows: number }>(PG_LIST_PARTITIONS);
      const parts: (Partition & { rows: number })[] = [];
      for (const r of list.rows) {
        const b = parsePartitionBound(r.bound);
        if (b !== null) parts.push({ name: r.name, fromMs: b.fromMs, toMs: b.toMs, bytes: r.bytes, rows: r.rows });
      }
      const drop = planPartitionRetention(wallMs(), config.retention, parts);
      for (const name of drop) {
        const p = parts.find((x) => x.name === name)!;
        const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
        await c.query(`DROP TABLE ${name}`);
        partitions.delete(p.fromMs);
        expired += Number(rows[0]?.n ?? 0);
      }
      sizeBytes = parts.filter((p) => !drop.includes(p.name)).reduce((n, p) => n + p.bytes, 0);
      if (drop.length > 0) log.debug('flow sink postgres: partitions dropped', { count: drop.length, table: PG_TABLE });
    } catch (e) {
      errors++;
      log.warn('flow sink postgres: retention failed', { reason: say(e) });
    }
  };

  const running = loop();
  const retentionTimer = setInterval(() => void retention(), opts.retentionIntervalMs ?? 60_000);
  retentionTimer.unref();

  const waitDrained = (timeoutMs: number, what: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (queued === 0) {
        resolve();
        return;
      }
      const timer = setTimeout(() => reject(new AppError(ErrorCodes.OP_ERR_TIMEOUT, `${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
      drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
      wake?.();
    });

  return {
    name: 'postgres',
    write(batch: FlowBatch): void {
      if (batch.count === 0) return;
      if (closing || queued + batch.count > maxQueuedRows) {
        dropped += batch.count;
        return;
      }
      queue.push(copyFlowBatch(batch));
      queued += batch.count;
      if (queued >= config.batch_size) wake?.();
    },
    flush: (timeoutMs) => waitDrained(timeoutMs, 'flushing the postgres flow sink'),
    async close(timeoutMs: number): Promise<void> {
      if (closing) return;
      closing = true;
      clearInterval(retentionTimer);
      wake?.();
      try {
        await waitDrained(timeoutMs, 'closing the postgres flow sink');
      } finally {
        // whatever is still queued is lost: count it, and end the connection
        failed += queued;
        queue.length = 0;
        queued = 0;
        notifyDrained();
        wake?.();
        await Promise.race([running, sleep(1000)]);
        if (client !== null) await client.end().catch(() => undefined);
      }
    },
    stats: () => ({ written, dropped, expired, queued, sizeBytes, failed, connected, errors }),
    retention,
  };
}
