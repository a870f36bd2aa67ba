/**
 * A FlowBatch's flows, bytes and packets per small key — protocol, source port, destination
 * port, exporter, and input and output interface per exporter — so that the top-talker window
 * (flows/top.ts) merges a few entries per batch instead of tallying these keys per flow. Run
 * where the batch is decoded (the worker pool, see data-job.ts). Pure.
 */
import type { FlowBatch } from './types.js';
import { fibHome } from '../../lib/fib-hash.js';

/** Entries of KEY_FIELDS numbers: key, flows, bytes, packets. */
export const KEY_FIELDS = 4;
const IF_KEY = 0x1_0000_0000;

export interface SmallKeyTally {
  readonly proto: Float64Array;
  readonly srcPort: Float64Array;
  readonly dstPort: Float64Array;
  /** key: the batch's exporter index */
  readonly exporter: Float64Array;
  /** key: exporter index * 2^32 + ifIndex */
  readonly inIf: Float64Array;
  readonly outIf: Float64Array;
}

/** Entries (key, flows, bytes, packets) in the order their keys were first seen, in a growable Float64Array. */
class Entries {
  protected out = new Float64Array(KEY_FIELDS * 64);
  protected used = 0;

  /** a new entry for `key`: its offset */
  protected open(key: number): number {
    if (this.used === this.out.length) {
      const grown = new Float64Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    const s = this.used;
    this.out[s] = key;
    this.used += KEY_FIELDS;
    return s;
  }

  protected count(s: number, bytes: number, packets: number): void {
    const o = this.out;
    o[s + 1]!++;
    o[s + 2]! += bytes;
    o[s + 3]! += packets;
  }

  entries(): Float64Array {
    return this.out.subarray(0, this.used);
  }
}

/** Keys below `size` (a few hundred at most), indexed directly. */
class Direct extends Entries {
  readonly #slot: Int32Array;

  constructor(size: number) {
    super();
    this.#slot = new Int32Array(size);
  }

  add(key: number, bytes: number, packets: number): void {
    let s = this.#slot[key]! - 1;
    if (s < 0) {
      s = this.open(key);
      this.#slot[key] = s + 1;
    }
    this.count(s, bytes, packets);
  }
}

/**
 * 16-bit keys (ports) in an open-addressing table sized for the batch's rows, not for every
 * port: a table of 65 536 slots per batch cost more to allocate and clear than the tally.
 */
class Ports extends Entries {
  readonly #slot: Int32Array;
  readonly #shift: number;

  constructor(rows: number) {
    super();
    const bits = Math.max(6, Math.min(17, 32 - Math.clz32(rows * 2)));
    this.#slot = new Int32Array(1 << bits);
    this.#shift = 32 - bits;
  }

  add(key: number, bytes: number, packets: number): void {
    const slot = this.#slot;
    const mask = slot.length - 1;
    let i = fibHome(key, this.#shift);
    for (;;) {
      const s = slot[i]! - 1;
      if (s < 0) {
        const o = this.open(key);
        slot[i] = o + 1;
        this.count(o, bytes, packets);
        return;
      }
      if (this.out[s] === key) {
        this.count(s, bytes, packets);
        return;
      }
      i = (i + 1) & mask;
    }
  }
}

/** Interfaces per exporter: any 32-bit ifIndex; consecutive flows mostly share one, so the last is kept at hand. */
class Interfaces extends Entries {
  readonly #slots: Map<number, number>[] = [];
  #lastE = -1;
  #lastIf = -1;
  #last = 0;

  add(e: number, ifIndex: number, bytes: number, packets: number): void {
    let s = this.#last;
    if (e !== this.#lastE || ifIndex !== this.#lastIf) {
      const m = (this.#slots[e] ??= new Map());
      const found = m.get(ifIndex);
      if (found === undefined) {
        s = this.open(e * IF_KEY + ifIndex);
        m.set(ifIndex, s);
      } else s = found;
      this.#lastE = e;
      this.#lastIf = ifIndex;
      this.#last = s;
    }
    this.count(s, bytes, packets);
  }
}

export function tallySmallKeys(b: FlowBatch): SmallKeyTally {
  const proto = new Direct(256);
  const srcPort = new Ports(b.count);
  const dstPort = new Ports(b.count);
  const exporter = new Direct(b.exporters.length);
  const inIf = new Interfaces();
  const outIf = new Interfaces();
  for (let i = 0; i < b.count; i++) {
    const bytes = b.bytes[i]!;
    const packets = b.packets[i]!;
    proto.add(b.proto[i]!, bytes, packets);
    srcPort.add(b.srcPort[i]!, bytes, packets);
    dstPort.add(b.dstPort[i]!, bytes, packets);
    const e = b.exporter[i]!;
    exporter.add(e, bytes, packets);
    inIf.add(e, b.inIf[i]!, bytes, packets);
    outIf.add(e, b.outIf[i]!, bytes, packets);
  }
  return { proto: proto.entries(), srcPort: srcPort.entries(), dstPort: dstPort.entries(), exporter: exporter.entries(), inIf: inIf.entries(), outIf: outIf.entries() };
}
