/**
 * Packet template bytes carved from shared slabs: a template costs one Buffer view of a slab
 * instead of an ArrayBuffer (and its backing store) of its own plus a Buffer view made to send
 * it. A slab is freed when no template uses it any more, so templates that outlive their
 * neighbours (a few targets kept over reloads) keep their slab alive: at most SLAB_BYTES each.
 */

/** bytes of one slab; templates larger than MAX_POOLED get a Buffer of their own */
export const SLAB_BYTES = 16 * 1024;
const MAX_POOLED = 1024;

let slab: Buffer | null = null;
let used = 0;

/** `n` zeroed bytes for a packet template (8-byte aligned in its slab). */
export function packetBytes(n: number): Buffer {
  if (n > MAX_POOLED) return Buffer.alloc(n);
  if (slab === null || used + n > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const b = slab.subarray(used, used + n);
  b.fill(0);
  used += (n + 7) & ~7;
  return b;
}
