/** Messages between the SQLite flow store (main thread) and its database workers. */
import type { FlowRetentionConfig } from '../../config/types.js';
import type { FlowBatch } from '../../packet/flow/types.js';
import type { FlowQueryResult, FlowQuerySpec } from '../types.js';

export interface WriterInit {
  readonly role: 'writer';
  readonly path: string;
  readonly retention: FlowRetentionConfig;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly retentionIntervalMs: number;
}

export interface ReaderInit {
  readonly role: 'reader';
  readonly path: string;
}

export type WorkerInit = WriterInit | ReaderInit;

export type ToWriter =
  | { readonly type: 'batch'; readonly batch: FlowBatch }
  | { readonly type: 'flush'; readonly id: number }
  | { readonly type: 'close' };

/** deadlineMs: Unix ms (Date.now() is the same clock in every thread); queries queue behind each other */
export type ToReader = { readonly type: 'query'; readonly id: number; readonly spec: FlowQuerySpec; readonly deadlineMs: number } | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready'; readonly sizeBytes: number }
  /** spent: the written batches' buffers, transferred back for the collector to decode into */
  | { readonly type: 'written'; readonly rows: number; readonly sizeBytes: number; readonly spent: ArrayBuffer[] }
  /** rows the writer received but could not store (a failed transaction) */
  | { readonly type: 'failed'; readonly rows: number; readonly message: string; readonly spent: ArrayBuffer[] }
  | { readonly type: 'expired'; readonly rows: number; readonly sizeBytes: number; readonly vacuumedPages: number }
  | { readonly type: 'flushed'; readonly id: number }
  | { readonly type: 'result'; readonly id: number; readonly result: FlowQueryResult }
  | { readonly type: 'error'; readonly id: number | null; readonly code: string; readonly message: string }
  | { readonly type: 'closed' };
