/**
 * FrameDecoder: small batches are decoded on the calling thread (a few hundred frames cost less
 * than a round trip to a worker, and a low probe rate then never wakes, or even starts, a worker
 * thread); larger ones in the worker pool, the batch buffer transferred, not copied.
 */
import type { FrameDecoder } from '../net/types.js';
import { decodeBatch } from '../packet/probe-frame.js';
import { frameCodecs } from '../probes/index.js';
import type { WorkerPool } from './pool.js';

/** batches up to this many bytes (~128 frames of a 256-byte snap length) are decoded inline */
export const INLINE_DECODE_BYTES = 32 * 1024;

export function createFrameDecoder(pool: WorkerPool, inlineBytes = INLINE_DECODE_BYTES): FrameDecoder {
  const codecs = frameCodecs();
  return {
    decode: (batch, used) =>
      used <= inlineBytes
        ? new Promise((resolve) => resolve(decodeBatch(batch, used, codecs)))
        : pool.run('decodeBatch', { batch, used }, [batch.buffer as ArrayBuffer]),
  };
}
