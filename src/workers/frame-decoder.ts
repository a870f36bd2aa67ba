/**
 * FrameDecoder: small batches are decoded on the calling thread (a few hundred frames cost less
 * than a round trip to a worker, and a low probe rate then never wakes, or even starts, a worker
 * thread); larger ones in the worker pool, the batch buffer transferred, not copied.
 */
import type { FrameDecoder } from '../net/types.js';
import { decodeBatch } from '../packet/probe-frame.js';
import { frameCodecs } from '../probes/index.js';
import type { WorkerPool } from './pool.js';

/**
 * Batches up to this many bytes are decoded inline: ~240 frames of a 256-byte snap length, ~900
 * of the short frames of regular probing. Below 10 000 probes/s a grid instant sends at most 200
 * first packets (scheduler/loop.ts), so one capture wake-up hands over ~400 frames, requests and
 * answers: 22 KB for ICMP echo, 27–28 KB for TCP SYN / RST and UDP / ICMP port unreachable (an
 * answer quotes the probe). At 32 KB, TCP and UDP crossed it whenever a wake-up carried a little
 * more, and the pool's worker thread started (and stayed, its idle timeout being 60 s): +10–20 MB
 * of RSS at 10 000 targets × 1 / 10 s.
 */
export const INLINE_DECODE_BYTES = 64 * 1024;

export function createFrameDecoder(pool: WorkerPool, inlineBytes = INLINE_DECODE_BYTES): FrameDecoder {
  const codecs = frameCodecs();
  return {
    decode: (batch, used) =>
      used <= inlineBytes
        ? new Promise((resolve) => resolve(decodeBatch(batch, used, codecs)))
        : pool.run('decodeBatch', { batch, used }, [batch.buffer as ArrayBuffer]),
  };
}
