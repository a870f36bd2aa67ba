/**
 * Top talkers per window: flows, bytes and packets per source, destination, conversation,
 * protocol, source and destination port, exporter, and input and output interface per
 * exporter, tallied from FlowBatches (numbers as keys where they fit, no object per flow), and
 * ranked by bytes when the window closes. Every group gets an `others` entry so that the sum
 * over its keys is the group's exact total; the number of published entries is capped. Pure.
 */
import { formatIp, formatIPv4 } from '../lib/address.js';
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
  /** distinct keys tallied per group and window; beyond it, flows count in `others` only */
  readonly maxKeys: number;
}

const A = FLOW_ADDRESS_BYTES;

/** One group's counts: key → slot; three counts per slot. */
class Tally {
  readonly index = new Map<number | string, number>();
  keys: (number | string)[] = [];
  counts = new Float64Array(3 * 64);
  /** flows beyond maxKeys */
  readonly rest = [0, 0, 0];
  readonly total = [0, 0, 0];

  add(key: number | string, bytes: number, packets: number, maxKeys: number): void {
    const t = this.total;
    t[0]!++;
    t[1]! += bytes;
    t[2]! += packets;
    let slot = this.index.get(key);
    if (slot === undefined) {
      if (this.keys.length >= maxKeys) {
        const r = this.rest;
        r[0]!++;
        r[1]! += bytes;
        r[2]! += packets;
        return;
      }
      slot = this.keys.length;
      this.keys.push(key);
      this.index.set(key, slot);
      if (slot * 3 >= this.counts.length) {
        const grown = new Float64Array(this.counts.length * 2);
        grown.set(this.counts);
        this.counts = grown;
      }
    }
    const c = this.counts;
    c[slot * 3]!++;
    c[slot * 3 + 1]! += bytes;
    c[slot * 3 + 2]! += packets;
  }

  /** the best `n` slots by bytes (then flows), best first */
  best(n: number): number[] {
    const c = this.counts;
    const slots = Array.from({ length: this.keys.length }, (_, i) => i);
    slots.sort((a, b) => c[b * 3 + 1]! - c[a * 3 + 1]! || c[b * 3]! - c[a * 3]! || a - b);
    return slots.slice(0, n);
  }
}

/** the IPv4 address of row i of an address column as a number, or -1 when it is not IPv4-mapped */
function v4At(col: Uint8Array, i: number): number {
  const o = i * A;
  for (let k = 0; k < 10; k++) if (col[o + k] !== 0) return -1;
  if (col[o + 10] !== 0xff || col[o + 11] !== 0xff) return -1;
  return ((col[o + 12]! << 24) >>> 0) + ((col[o + 13]! << 16) | (col[o + 14]! << 8) | col[o + 15]!);
}

function addrKey(col: Uint8Array, i: number): number | string {
  const v4 = v4At(col, i);
  return v4 >= 0 ? v4 : formatIp(col, i * A, A);
}

function addrText(key: number | string): string {
  return typeof key === 'number' ? formatIPv4(key) : key;
}

const GLOBAL_BY: readonly FlowGroupKey[] = ['src', 'dst', 'conversation', 'proto', 'src_port', 'dst_port', 'exporter'];

export class TopTalkers {
  #src = new Tally();
  #dst = new Tally();
  #conv = new Tally();
  #proto = new Tally();
  #srcPort = new Tally();
  #dstPort = new Tally();
  #exporter = new Tally();
  /** per exporter */
  #inIf = new Map<string, Tally>();
  #outIf = new Map<string, Tally>();
  #published: readonly TopEntry[] = [];

  constructor(readonly opts: TopOptions) {}

  add(b: FlowBatch): void {
    const max = this.opts.maxKeys;
    const inIfs = b.exporters.map((e) => tallyOf(this.#inIf, e));
    const outIfs = b.exporters.map((e) => tallyOf(this.#outIf, e));
    for (let i = 0; i < b.count; i++) {
      const bytes = b.bytes[i]!;
      const packets = b.packets[i]!;
      const s = addrKey(b.src, i);
      const d = addrKey(b.dst, i);
      this.#src.add(s, bytes, packets, max);
      this.#dst.add(d, bytes, packets, max);
      this.#conv.add(`${s}|${d}`, bytes, packets, max);
      this.#proto.add(b.proto[i]!, bytes, packets, max);
      this.#srcPort.add(b.srcPort[i]!, bytes, packets, max);
      this.#dstPort.add(b.dstPort[i]!, bytes, packets, max);
      const e = b.exporter[i]!;
      this.#exporter.add(b.exporters[e]!, bytes, packets, max);
      inIfs[e]!.add(b.inIf[i]!, bytes, packets, max);
      outIfs[e]!.add(b.outIf[i]!, bytes, packets, max);
    }
  }

  /** closes the window: its ranking becomes what entries() returns, and a new window starts */
  roll(): void {
    const n = this.opts.n;
    let budget = this.opts.maxSeries;
    const out: TopEntry[] = [];
    const group = (by: FlowGroupKey, exporter: string, t: Tally, text: (k: number | string) => string): void => {
      if (t.total[0] === 0 || budget < 2) return;
      const best = t.best(Math.min(n, budget - 1));
      const sum = [0, 0, 0];
      for (const slot of best) {
        const c = t.counts;
        out.push({ by, exporter, key: text(t.keys[slot]!), flows: c[slot * 3]!, bytes: c[slot * 3 + 1]!, packets: c[slot * 3 + 2]! });
        for (let k = 0; k < 3; k++) sum[k]! += c[slot * 3 + k]!;
      }
      out.push({ by, exporter, key: OTHERS, flows: t.total[0]! - sum[0]!, bytes: t.total[1]! - sum[1]!, packets: t.total[2]! - sum[2]! });
      budget -= best.length + 1;
    };
    const conv = (k: number | string): string => {
      const [s, d] = String(k).split('|');
      return `${addrText(/^\d+$/.test(s!) ? Number(s) : s!)} -> ${addrText(/^\d+$/.test(d!) ? Number(d) : d!)}`;
    };
    const tallies = [this.#src, this.#dst, this.#conv, this.#proto, this.#srcPort, this.#dstPort, this.#exporter];
    const texts = [addrText, addrText, conv, String, String, String, String];
    GLOBAL_BY.forEach((by, i) => group(by, '', tallies[i]!, texts[i]!));
    // interfaces: the busiest exporters first, while the cap allows
    const exporters = [...this.#inIf.keys()].sort((a, b) => this.#inIf.get(b)!.total[1]! - this.#inIf.get(a)!.total[1]! || (a < b ? -1 : 1));
    for (const e of exporters) {
      group('in_if', e, this.#inIf.get(e)!, String);
      group('out_if', e, this.#outIf.get(e)!, String);
    }
    this.#published = out;
    this.#src = new Tally();
    this.#dst = new Tally();
    this.#conv = new Tally();
    this.#proto = new Tally();
    this.#srcPort = new Tally();
    this.#dstPort = new Tally();
    this.#exporter = new Tally();
    this.#inIf = new Map();
    this.#outIf = new Map();
  }

  /** the last complete window's entries */
  entries(): readonly TopEntry[] {
    return this.#published;
  }
}

function tallyOf(m: Map<string, Tally>, exporter: string): Tally {
  let t = m.get(exporter);
  if (t === undefined) {
    t = new Tally();
    m.set(exporter, t);
  }
  return t;
}
