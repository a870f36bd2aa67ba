/**
 * Packet template bytes carved from shared slabs: a template costs one Buffer view of a slab
 * instead of an ArrayBuffer (and its backing store) of its own plus a Buffer view made to send
 * it. A slab is freed when no template uses it any more, so templates that outlive their
 * neighbours (a few targets kept over reloads) keep their slab alive: at most SLAB_BYTES each.
 */

/** The zeroed bytes of one packet template. */
export type PacketAlloc = (n: number) => Buffer;

/** A Buffer of its own per template: for the few templates of a one-shot operation, and fixtures. */
export const ownBytes: PacketAlloc = (n) => Buffer.alloc(n);

/** bytes of one slab; templates larger than MAX_POOLED get a Buffer of their own */
export const SLAB_BYTES = 16 * 1024;
const MAX_POOLED = 1024;

/** The slabs of one set of targets (the target manager's). */
export class PacketSlab {
  #slab: Buffer | null = null;
  #used = 0;

  /** `n` zeroed bytes for a packet template (8-byte aligned in its slab). */
  readonly alloc: PacketAlloc = (n) => {
    if (n > MAX_POOLED) return Buffer.alloc(n);
    if (this.#slab === null || this.#used + n > SLAB_BYTES) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#used = 0;
    }
    const b = this.#slab.subarray(this.#used, this.#used + n);
    b.fill(0);
    this.#used += (n + 7) & ~7;
    return b;
  };
}
