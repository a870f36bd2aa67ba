/**
 * The task table of the worker pool: names, inputs and outputs. Inputs and outputs are plain,
 * structured-cloneable data; large buffers are transferred.
 */
import type { DecodedBatch } from '../packet/probe-frame.js';

export interface TaskMap {
  /** decode a batch of captured frames (see packet/probe-frame.ts for the record format) */
  decodeBatch: { in: { batch: Uint8Array; used: number }; out: DecodedBatch };
}

export type TaskName = keyof TaskMap;
