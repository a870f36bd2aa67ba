/**
 * The task table of the worker threads: names, inputs and outputs. Inputs and outputs are
 * plain, structured-cloneable data; large buffers are transferred.
 */
import type { FlowPartial } from '../checks/conntrack-flows.js';
import type { Config } from '../config/types.js';
import type { ConfigProblem } from '../config/errors.js';
import type { ErrorCode } from '../lib/errors.js';
import type { DataJob, DataJobResult } from '../packet/flow/data-job.js';
import type { DecodedBatch } from '../packet/probe-frame.js';

/** A coded failure carried across the thread boundary (class instances do not survive it). */
export interface TaskFailure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
  readonly file?: string;
  readonly problems?: readonly ConfigProblem[];
}

export interface TaskMap {
  /** decode a batch of captured frames (see packet/probe-frame.ts for the record format) */
  decodeBatch: { in: { batch: Uint8Array; used: number }; out: DecodedBatch };
  /** read, parse and validate a config file (its transient memory stays in the worker) */
  loadConfig: {
    in: { path: string };
    out: { ok: true; config: Config; warnings: string[] } | TaskFailure;
  };
  /** parse and aggregate a batch of whole `conntrack -L` lines (checks/conntrack-flows.ts); the chunk may be a view of a SharedArrayBuffer */
  conntrackFlows: { in: { chunk: Uint8Array }; out: FlowPartial };
  /** decode a batch of flow data sets into rows (packet/flow/data-job.ts); its data buffer is transferred, the rows come back transferred */
  decodeFlows: { in: DataJob; out: DataJobResult };
}

export type TaskName = keyof TaskMap;

/** the handler of one task, in the worker */
export type TaskHandler<K extends TaskName> = (input: TaskMap[K]['in']) => TaskMap[K]['out'] | Promise<TaskMap[K]['out']>;

/** the tasks run in a thread of their own (workers/task-thread.ts), not in the pool */
export type ThreadTaskName = 'loadConfig';
