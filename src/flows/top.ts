/**
 * Top talkers per window: flows, bytes and packets per source, destination, conversation,
 * protocol, source and destination port, exporter, and input and output interface per
 * exporter, tallied from FlowBatches into open-addressing tables of fixed-width keys on typed
 * arrays (no string and no object per flow), and ranked by bytes when the window closes. Every
 * group gets an `others` entry so that the sum over its keys is the group's exact total; the
 * number of published entries is capped. Pure.
 */
import { formatIp } from '../lib/address.js';
import type { FlowGroupKey } from './types.js';
import { FLOW_ADDRESS_BYTES, type FlowBatch } from '../packet/flow/types.js';

export interface TopEntry {
  readonly by: FlowGroupKey;
  /** the exporter, for in_if and out_if; '' otherwise */
  readonly exporter: string;
  /** the key as text, or OTHERS */
  readonly key: string;
  readonly flows: number;
  readonly bytes: number;
  readonly packets: number;
}

export const OTHERS = 'others';

export interface TopOptions {
  /** keys per group */
  readonly n: number;
  /** entries published in all (others included) */
  readonly maxSeries: number;
  /** distinct keys tallied per table and window; beyond it, flows count in the totals (so in `others`) only */
  readonly maxKeys: number;
}

const GOLDEN = 0x9e3779b1;
/** 32-bit words per address */
const AW = FLOW_ADDRESS_BYTES / 4;

/** Keys of `width` 32-bit words with three counts each (flows, bytes, packets); flows 0: empty slot. */
class KeyTable {
  bits = 12;
  keys: Uint32Array;
  counts: Float64Array;
  size = 0;
  readonly total = new Float64Array(3);

  constructor(readonly width: number, readonly maxKeys: number) {
    this.keys = new Uint32Array(width << this.bits);
    this.counts = new Float64Array(3 << this.bits);
  }

  add(key: Uint32Array, off: number, bytes: number, packets: number): void {
    const t = this.total;
    t[0]!++;
    t[1]! += bytes;
    t[2]! += packets;
    const w = this.width;
    let h = 0;
    for (let k = 0; k < w; k++) h = Math.imul(h ^ key[off + k]!, GOLDEN);
    h ^= h >>> 15;
    for (;;) {
      const mask = (1 << this.bits) - 1;
      const keys = this.keys;
      const counts = this.counts;
      for (let i = Math.imul(h, GOLDEN) >>> (32 - this.bits); ; i = (i + 1) & mask) {
        const c = i * 3;
        if (counts[c] === 0) {
          if (this.size >= this.maxKeys) return;
          if ((this.size + 1) * 10 > (mask + 1) * 7) break; // grow, then retry
          for (let k = 0; k < w; k++) keys[i * w + k] = key[off + k]!;
          counts[c] = 1;
          counts[c + 1] = bytes;
          counts[c + 2] = packets;
          this.size++;
          return;
        }
        let same = true;
        for (let k = 0; k < w && same; k++) same = keys[i * w + k] === key[off + k];
        if (same) {
          counts[c]!++;
          counts[c + 1]! += bytes;
          counts[c + 2]! += packets;
          return;
        }
      }
      this.#grow();
    }
  }

  #grow(): void {
    const { keys, counts, width: w } = this;
    this.bits++;
    this.keys = new Uint32Array(w << this.bits);
    this.counts = new Float64Array(3 << this.bits);
    for (let i = 0; i < counts.length / 3; i++) {
      if (counts[i * 3] === 0) continue;
      this.#put(keys, i * w, counts[i * 3]!, counts[i * 3 + 1]!, counts[i * 3 + 2]!);
    }
  }

  #put(key: Uint32Array, off: number, flows: number, bytes: number, packets: number): void {
    const w = this.width;
    let h = 0;
    for (let k = 0; k < w; k++) h = Math.imul(h ^ key[off + k]!, GOLDEN);
    h ^= h >>> 15;
    const mask = (1 << this.bits) - 1;
    let i = Math.imul(h, GOLDEN) >>> (32 - this.bits);
    while (this.counts[i * 3] !== 0) i = (i + 1) & mask;
    for (let k = 0; k < w; k++) this.keys[i * w + k] = key[off + k]!;
    this.counts.set([flows, bytes, packets], i * 3);
  }

  /** occupied slots, optionally only those whose first key word is `first` */
  slots(first?: number): number[] {
    const out: number[] = [];
    const n = this.counts.length / 3;
    for (let i = 0; i < n; i++) if (this.counts[i * 3] !== 0 && (first === undefined || this.keys[i * this.width] === first)) out.push(i);
    return out;
  }
}

/** address words (native order, as read through a Uint32Array view) → text; IPv4-mapped shown as IPv4 */
function addrText(keys: Uint32Array, off: number): string {
  const b = new Uint8Array(keys.buffer, keys.byteOffset + off * 4, FLOW_ADDRESS_BYTES);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? formatIp(b, 12, 4) : formatIp(b, 0, 16);
}

/** an address column as 32-bit words (a copy when the column is not 4-byte aligned) */
function words(col: Uint8Array, n: number): Uint32Array {
  return col.byteOffset % 4 === 0 ? new Uint32Array(col.buffer, col.byteOffset, n * AW) : new Uint32Array(col.slice(0, n * FLOW_ADDRESS_BYTES).buffer);
}

export class TopTalkers {
  #src!: KeyTable;
  #dst!: KeyTable;
  #conv!: KeyTable;
  #proto!: KeyTable;
  #srcPort!: KeyTable;
  #dstPort!: KeyTable;
  /** keys: exporter id */
  #exporter!: KeyTable;
  /** keys: exporter id, ifIndex */
  #inIf!: KeyTable;
  #outIf!: KeyTable;
  /** exporter address → id, for the window */
  #exporterIds = new Map<string, number>();
  #exporterNames: string[] = [];
  readonly #scratch = new Uint32Array(2 * AW);
  #published: readonly TopEntry[] = [];

  constructor(readonly opts: TopOptions) {
    this.#reset();
  }

  #reset(): void {
    const m = this.opts.maxKeys;
    this.#src = new KeyTable(AW, m);
    this.#dst = new KeyTable(AW, m);
    this.#conv = new KeyTable(2 * AW, m);
    this.#proto = new KeyTable(1, m);
    this.#srcPort = new KeyTable(1, m);
    this.#dstPort = new KeyTable(1, m);
    this.#exporter = new KeyTable(1, m);
    this.#inIf = new KeyTable(2, m);
    this.#outIf = new KeyTable(2, m);
    this.#exporterIds = new Map();
    this.#exporterNames = [];
  }

  add(b: FlowBatch): void {
    const n = b.count;
    if (n === 0) return;
    const ids = Uint32Array.from(b.exporters, (e) => {
      let id = this.#exporterIds.get(e);
      if (id === undefined) {
        id = this.#exporterNames.length;
        this.#exporterNames.push(e);
        this.#exporterIds.set(e, id);
      }
      return id;
    });
    const src = words(b.src, n);
    const dst = words(b.dst, n);
    const conv = this.#scratch;
    const one = new Uint32Array(2);
    for (let i = 0; i < n; i++) {
      const bytes = b.bytes[i]!;
      const packets = b.packets[i]!;
      const o = i * AW;
      this.#src.add(src, o, bytes, packets);
      this.#dst.add(dst, o, bytes, packets);
      for (let k = 0; k < AW; k++) {
        conv[k] = src[o + k]!;
        conv[AW + k] = dst[o + k]!;
      }
      this.#conv.add(conv, 0, bytes, packets);
      one[0] = b.proto[i]!;
      this.#proto.add(one, 0, bytes, packets);
      one[0] = b.srcPort[i]!;
      this.#srcPort.add(one, 0, bytes, packets);
      one[0] = b.dstPort[i]!;
      this.#dstPort.add(one, 0, bytes, packets);
      one[0] = ids[b.exporter[i]!]!;
      this.#exporter.add(one, 0, bytes, packets);
      one[1] = b.inIf[i]!;
      this.#inIf.add(one, 0, bytes, packets);
      one[1] = b.outIf[i]!;
      this.#outIf.add(one, 0, bytes, packets);
    }
  }

  /** closes the window: its ranking becomes what entries() returns, and a new window starts */
  roll(): void {
    let budget = this.opts.maxSeries;
    const out: TopEntry[] = [];
    const names = this.#exporterNames;
    const group = (by: FlowGroupKey, exporter: string, t: KeyTable, slots: number[], total: ArrayLike<number>, text: (slot: number) => string): void => {
      if (total[0] === 0 || budget < 2) return;
      const c = t.counts;
      slots.sort((a, b) => c[b * 3 + 1]! - c[a * 3 + 1]! || c[b * 3]! - c[a * 3]! || a - b);
      const best = slots.slice(0, Math.min(this.opts.n, budget - 1));
      const sum = [0, 0, 0];
      for (const s of best) {
        out.push({ by, exporter, key: text(s), flows: c[s * 3]!, bytes: c[s * 3 + 1]!, packets: c[s * 3 + 2]! });
        for (let k = 0; k < 3; k++) sum[k]! += c[s * 3 + k]!;
      }
      out.push({ by, exporter, key: OTHERS, flows: total[0]! - sum[0]!, bytes: total[1]! - sum[1]!, packets: total[2]! - sum[2]! });
      budget -= best.length + 1;
    };
    const word = (t: KeyTable, k = 0) => (s: number): string => String(t.keys[s * t.width + k]);
    group('src', '', this.#src, this.#src.slots(), this.#src.total, (s) => addrText(this.#src.keys, s * AW));
    group('dst', '', this.#dst, this.#dst.slots(), this.#dst.total, (s) => addrText(this.#dst.keys, s * AW));
    const cv = this.#conv;
    group('conversation', '', cv, cv.slots(), cv.total, (s) => `${addrText(cv.keys, s * 2 * AW)} -> ${addrText(cv.keys, s * 2 * AW + AW)}`);
    group('proto', '', this.#proto, this.#proto.slots(), this.#proto.total, word(this.#proto));
    group('src_port', '', this.#srcPort, this.#srcPort.slots(), this.#srcPort.total, word(this.#srcPort));
    group('dst_port', '', this.#dstPort, this.#dstPort.slots(), this.#dstPort.total, word(this.#dstPort));
    const ex = this.#exporter;
    group('exporter', '', ex, ex.slots(), ex.total, (s) => names[ex.keys[s]!]!);
    // interfaces per exporter: the busiest exporters first, while the cap allows; an exporter's
    // total over its interfaces is its total in the exporter table
    const totals = new Map(ex.slots().map((s) => [ex.keys[s]!, ex.counts.subarray(s * 3, s * 3 + 3)] as const));
    const order = [...totals.keys()].sort((a, b) => totals.get(b)![1]! - totals.get(a)![1]! || a - b);
    for (const id of order) {
      group('in_if', names[id]!, this.#inIf, this.#inIf.slots(id), totals.get(id)!, word(this.#inIf, 1));
      group('out_if', names[id]!, this.#outIf, this.#outIf.slots(id), totals.get(id)!, word(this.#outIf, 1));
    }
    this.#published = out;
    this.#reset();
  }

  /** the last complete window's entries */
  entries(): readonly TopEntry[] {
    return this.#published;
  }
}
