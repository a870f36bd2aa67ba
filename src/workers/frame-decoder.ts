/** FrameDecoder backed by the worker pool: the batch buffer is transferred, not copied. */
import type { FrameDecoder } from '../net/types.js';
import type { WorkerPool } from './pool.js';

export function createFrameDecoder(pool: WorkerPool): FrameDecoder {
  return {
    decode: (batch, used) => pool.run('decodeBatch', { batch, used }, [batch.buffer as ArrayBuffer]),
  };
}
