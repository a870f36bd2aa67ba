/**
 * A FlowBatch's flows, bytes and packets per small key — protocol, source port, destination
 * port, exporter, and input and output interface per exporter — so that the top-talker window
 * (flows/top.ts) merges a few entries per batch instead of tallying these keys per flow. Run
 * where the batch is decoded (the worker pool, see data-job.ts). Pure.
 */
import type { FlowBatch } from './types.js';

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

/** Entries (key, flows, bytes, packets) in the order their keys were first seen. */
class Entries {
  protected readonly out: number[] = [];

  /** a new entry for `key`: its offset */
  protected open(key: number): number {
    this.out.push(key, 0, 0, 0);
    return this.out.length - KEY_FIELDS;
  }

  protected count(s: number, bytes: number, packets: number): void {
    const o = this.out;
    o[s + 1]!++;
    o[s + 2]! += bytes;
    o[s + 3]! += packets;
  }

  entries(): Float64Array {
    return Float64Array.from(this.out);
  }
}

/** Keys below `size`, indexed directly; only the keys seen are scanned at the end. */
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
  const srcPort = new Direct(65536);
  const dstPort = new Direct(65536);
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
