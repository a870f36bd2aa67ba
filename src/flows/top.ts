/**
 * Top talkers per window: flows, bytes and packets per source, destination, conversation,
 * protocol, source and destination port, exporter, and input and output interface per
 * exporter, tallied from FlowBatches and ranked by bytes when the window closes. Every group
 * gets an `others` entry so that the sum over its keys is the group's exact total; the number
 * of published entries is capped (maxSeries), and so is the number of keys a group tallies
 * per window (maxKeys: beyond it, flows count in the group's total, so in `others`, only).
 *
 * Cost per flow (bench/flow-cpu-bench.ts): no string and no object per flow. Protocol, ports,
 * exporter and interfaces come tallied per batch (packet/flow/key-tally.ts, in the worker that
 * decoded the batch) and are merged here a few entries per batch, into flat arrays (protocol,
 * ports) or small tables. Per flow, only the high-cardinality keys: IPv4 addresses
 * (IPv4-mapped in the batch) as one 32-bit key word and an IPv4 conversation as two, in
 * open-addressing tables on one typed array each (a slot's counts and key words side by side,
 * with a hash and compare of their own for one- and two-word keys); IPv6 keys in tables of 4
 * and 8 words. A flow touches only its conversation's table while the conversation group has
 * key budget left: sources and destinations get each conversation's counts when the window
 * closes (or when the budget runs out), in the order the per-flow tally would have claimed
 * them, so the result is the same. Pure.
 */
import { formatIp } from '../lib/address.js';
import type { FlowGroupKey } from './types.js';
import { KEY_FIELDS, tallySmallKeys, type SmallKeyTally } from '../packet/flow/key-tally.js';
import { FLOW_ADDRESS_BYTES, type FlowBatch } from '../packet/flow/types.js';
import { fibHome, fibMix } from '../lib/fib-hash.js';

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
  /** distinct keys tallied per group and window; beyond it, flows count in the totals (so in `others`) only */
  readonly maxKeys: number;
}

/** interface keys of a SmallKeyTally: exporter index * IF_KEY + ifIndex */
const IF_KEY = 0x1_0000_0000;
/** 32-bit words per address */
const AW = FLOW_ADDRESS_BYTES / 4;

/** A group's exact totals (flows, bytes, packets) and what is left of its key budget. */
class Group {
  readonly total = new Float64Array(3);
  constructor(public keysLeft: number) {}

  add(flows: number, bytes: number, packets: number): void {
    const t = this.total;
    t[0]! += flows;
    t[1]! += bytes;
    t[2]! += packets;
  }
}

/** What ranking needs of a table: per slot, counts (flows, bytes, packets at slot * stride) and its key as text. */
interface Tally {
  readonly stride: number;
  readonly counts: Float64Array;
  slots(first?: number): number[];
  text(slot: number): string;
}

/** what an add did: the key was not counted (the group's key budget is spent), counted, or counted as a new key */
const UNTRACKED = 0;
const COUNTED = 1;
const CLAIMED = 2;

/** the hash of a key's 32-bit words, folded */
const hash1 = (k0: number): number => {
  const h = fibMix(0, k0);
  return h ^ (h >>> 15);
};
const hash2 = (k0: number, k1: number): number => {
  const h = fibMix(fibMix(0, k0), k1);
  return h ^ (h >>> 15);
};
/** the same for `w` words at key[off..] (numbers: slots hold key words as doubles) */
const hashN = (key: ArrayLike<number>, off: number, w: number): number => {
  let h = 0;
  for (let k = 0; k < w; k++) h = fibMix(h, key[off + k]!);
  return h ^ (h >>> 15);
};

/**
 * Keys of `width` 32-bit words with three counts each, one slot of `stride` = 3 + width numbers:
 * flows (0: empty slot), bytes, packets, then the key words, so that a probe reads one place.
 * One- and two-word keys (IPv4 addresses and conversations, exporters, interfaces: nearly every
 * flow) have their own hash and compare, without a loop over the words.
 */
class KeyTable implements Tally {
  bits = 12;
  readonly stride: number;
  counts: Float64Array;
  size = 0;

  constructor(readonly width: number, readonly group: Group, readonly text: (slot: number) => string) {
    this.stride = 3 + width;
    this.counts = new Float64Array(this.stride << this.bits);
  }

  /** key word k of a slot */
  word(slot: number, k: number): number {
    return this.counts[slot * this.stride + 3 + k]!;
  }

  /** a slot's key words as a Uint32Array (for text) */
  keyWords(slot: number): Uint32Array {
    const o = slot * this.stride + 3;
    return Uint32Array.from(this.counts.subarray(o, o + this.width));
  }

  /** true when the table is full enough to grow before claiming one more slot */
  #full(): boolean {
    return (this.size + 1) * 10 > (1 << this.bits) * 7;
  }

  /** counts a new key in: false when the group's key budget is spent */
  #claim(): boolean {
    if (this.group.keysLeft <= 0) return false;
    this.size++;
    this.group.keysLeft--;
    return true;
  }

  #count(o: number, flows: number, bytes: number, packets: number): void {
    const c = this.counts;
    c[o]! += flows;
    c[o + 1]! += bytes;
    c[o + 2]! += packets;
  }

  /** a one-word key */
  add1(k0: number, bytes: number, packets: number, flows = 1): void {
    for (;;) {
      const c = this.counts;
      const mask = (1 << this.bits) - 1;
      for (let i = fibHome(hash1(k0), 32 - this.bits); ; i = (i + 1) & mask) {
        const o = i * 4;
        if (c[o] === 0) {
          if (this.group.keysLeft > 0 && this.#full()) break; // grow, then retry
          if (!this.#claim()) return;
          c[o + 3] = k0;
        } else if (c[o + 3] !== k0) continue;
        this.#count(o, flows, bytes, packets);
        return;
      }
      this.#grow();
    }
  }

  /** a two-word key: UNTRACKED, COUNTED or CLAIMED */
  add2(k0: number, k1: number, bytes: number, packets: number, flows = 1): number {
    for (;;) {
      const c = this.counts;
      const mask = (1 << this.bits) - 1;
      for (let i = fibHome(hash2(k0, k1), 32 - this.bits); ; i = (i + 1) & mask) {
        const o = i * 5;
        let done = COUNTED;
        if (c[o] === 0) {
          if (this.group.keysLeft > 0 && this.#full()) break;
          if (!this.#claim()) return UNTRACKED;
          c[o + 3] = k0;
          c[o + 4] = k1;
          done = CLAIMED;
        } else if (c[o + 3] !== k0 || c[o + 4] !== k1) continue;
        this.#count(o, flows, bytes, packets);
        return done;
      }
      this.#grow();
    }
  }

  /** the counts' offset of a two-word key (-1: absent) */
  find2(k0: number, k1: number): number {
    const c = this.counts;
    const mask = (1 << this.bits) - 1;
    for (let i = fibHome(hash2(k0, k1), 32 - this.bits); ; i = (i + 1) & mask) {
      const o = i * 5;
      if (c[o] === 0) return -1;
      if (c[o + 3] === k0 && c[o + 4] === k1) return o;
    }
  }

  /** the counts' offset of the key of `width` words at key[off..] (-1: absent) */
  find(key: Uint32Array, off: number): number {
    const { width: w, stride, counts: c } = this;
    const mask = (1 << this.bits) - 1;
    for (let i = fibHome(hashN(key, off, w), 32 - this.bits); ; i = (i + 1) & mask) {
      const o = i * stride;
      if (c[o] === 0) return -1;
      let k = 0;
      while (k < w && c[o + 3 + k] === key[off + k]) k++;
      if (k === w) return o;
    }
  }

  /** a key of `width` words at key[off..]: UNTRACKED, COUNTED or CLAIMED */
  add(key: Uint32Array, off: number, bytes: number, packets: number, flows = 1): number {
    const w = this.width;
    const stride = this.stride;
    const h = hashN(key, off, w);
    for (;;) {
      const c = this.counts;
      const mask = (1 << this.bits) - 1;
      for (let i = fibHome(h, 32 - this.bits); ; i = (i + 1) & mask) {
        const o = i * stride;
        let done = COUNTED;
        if (c[o] === 0) {
          if (this.group.keysLeft > 0 && this.#full()) break;
          if (!this.#claim()) return UNTRACKED;
          for (let k = 0; k < w; k++) c[o + 3 + k] = key[off + k]!;
          done = CLAIMED;
        } else {
          let k = 0;
          while (k < w && c[o + 3 + k] === key[off + k]) k++;
          if (k < w) continue;
        }
        this.#count(o, flows, bytes, packets);
        return done;
      }
      this.#grow();
    }
  }

  #grow(): void {
    const { counts, width: w, stride } = this;
    this.bits++;
    this.counts = new Float64Array(stride << this.bits);
    const mask = (1 << this.bits) - 1;
    for (let s = 0; s < counts.length; s += stride) {
      if (counts[s] === 0) continue;
      let i = fibHome(hashN(counts, s + 3, w), 32 - this.bits);
      while (this.counts[i * stride] !== 0) i = (i + 1) & mask;
      this.counts.set(counts.subarray(s, s + stride), i * stride);
    }
  }

  /** occupied slots, optionally only those whose first key word is `first` */
  slots(first?: number): number[] {
    const out: number[] = [];
    const { counts: c, stride } = this;
    const n = c.length / stride;
    for (let i = 0; i < n; i++) if (c[i * stride] !== 0 && (first === undefined || c[i * stride + 3] === first)) out.push(i);
    return out;
  }
}

/** Small integer keys (protocol, port) indexing the counts directly. */
class DirectTable implements Tally {
  readonly stride = 3;
  readonly counts: Float64Array;
  constructor(readonly size: number, readonly group: Group) {
    this.counts = new Float64Array(size * 3);
  }

  /** adds tallied entries (key, flows, bytes, packets) */
  merge(e: Float64Array): void {
    const c = this.counts;
    for (let i = 0; i < e.length; i += KEY_FIELDS) {
      const k = e[i]! * 3;
      if (c[k] === 0) {
        if (this.group.keysLeft <= 0) continue;
        this.group.keysLeft--;
      }
      c[k]! += e[i + 1]!;
      c[k + 1]! += e[i + 2]!;
      c[k + 2]! += e[i + 3]!;
    }
  }

  slots(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.counts[i * 3] !== 0) out.push(i);
    return out;
  }

  text(slot: number): string {
    return String(slot);
  }
}

const V4_MAPPED_WORD = new Uint32Array(new Uint8Array([0, 0, 0xff, 0xff]).buffer)[0]!;

/** address words (native order, as read through a Uint32Array view) → text; IPv4-mapped shown as IPv4 */
function addrText(keys: Uint32Array, off: number, words: number): string {
  const b = new Uint8Array(keys.buffer, keys.byteOffset + off * 4, words * 4);
  if (words === 1) return formatIp(b, 0, 4);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? formatIp(b, 12, 4) : formatIp(b, 0, 16);
}

/** an address column as 32-bit words (a copy when the column is not 4-byte aligned) */
function words(col: Uint8Array, n: number): Uint32Array {
  return col.byteOffset % 4 === 0 ? new Uint32Array(col.buffer, col.byteOffset, n * AW) : new Uint32Array(col.slice(0, n * FLOW_ADDRESS_BYTES).buffer);
}

/** a flow's conversation key (its source's words, then its destination's) in `key` */
function conversation(key: Uint32Array, src: Uint32Array, dst: Uint32Array, o: number): Uint32Array {
  for (let k = 0; k < AW; k++) {
    key[k] = src[o + k]!;
    key[AW + k] = dst[o + k]!;
  }
  return key;
}

/** the tables of one window */
class Window {
  readonly src: Group;
  readonly dst: Group;
  readonly conv: Group;
  readonly proto: Group;
  readonly srcPort: Group;
  readonly dstPort: Group;
  readonly exporter: Group;
  readonly src4: KeyTable;
  readonly src6: KeyTable;
  readonly dst4: KeyTable;
  readonly dst6: KeyTable;
  readonly conv4: KeyTable;
  readonly conv6: KeyTable;
  readonly protoT: DirectTable;
  readonly srcPortT: DirectTable;
  readonly dstPortT: DirectTable;
  /** keys: exporter id */
  readonly exporterT: KeyTable;
  /** keys: exporter id, ifIndex (the exporter's own budget is its group: the exporter table's) */
  readonly inIf: KeyTable;
  readonly outIf: KeyTable;
  /** exporter address → id, for the window */
  readonly exporterIds = new Map<string, number>();
  readonly exporterNames: string[] = [];
  /**
   * Until the conversation group's key budget is spent, sources and destinations are not
   * tallied per flow: each conversation's key is logged when first seen, and its counts go to its
   * source and destination (in that order, so every key is claimed in the order the per-flow
   * tally would have claimed it) when the window closes or when a flow's conversation is not
   * tallied; from then on every flow counts in all three. Log entries: a tag (0: IPv4, 2 words
   * follow; 1: IPv6, 2 * AW words follow).
   */
  deferred = true;
  log = new Uint32Array(1024);
  logUsed = 0;

  constructor(maxKeys: number) {
    const g = (): Group => new Group(maxKeys);
    [this.src, this.dst, this.conv, this.proto, this.srcPort, this.dstPort, this.exporter] = [g(), g(), g(), g(), g(), g(), g()];
    const addr = (w: number, group: Group): KeyTable => {
      const t: KeyTable = new KeyTable(w, group, (s) => addrText(t.keyWords(s), 0, w));
      return t;
    };
    this.src4 = addr(1, this.src);
    this.src6 = addr(AW, this.src);
    this.dst4 = addr(1, this.dst);
    this.dst6 = addr(AW, this.dst);
    const conv = (w: number): KeyTable => {
      const t: KeyTable = new KeyTable(w, this.conv, (s) => {
        const k = t.keyWords(s);
        return `${addrText(k, 0, w / 2)} -> ${addrText(k, w / 2, w / 2)}`;
      });
      return t;
    };
    this.conv4 = conv(2);
    this.conv6 = conv(2 * AW);
    this.protoT = new DirectTable(256, this.proto);
    this.srcPortT = new DirectTable(65536, this.srcPort);
    this.dstPortT = new DirectTable(65536, this.dstPort);
    const word = (w: number, k: number, group: Group): KeyTable => {
      const t: KeyTable = new KeyTable(w, group, (s) => String(t.word(s, k)));
      return t;
    };
    this.exporterT = new KeyTable(1, this.exporter, (s) => this.exporterNames[this.exporterT.word(s, 0)]!);
    this.inIf = word(2, 1, new Group(maxKeys));
    this.outIf = word(2, 1, new Group(maxKeys));
  }

  /** logs the conversation of the flow whose address words are at src[o..] and dst[o..] */
  logConversation(src: Uint32Array, dst: Uint32Array, o: number, v4: boolean): void {
    const words = v4 ? 2 : 2 * AW;
    if (this.logUsed + 1 + words > this.log.length) {
      const grown = new Uint32Array(this.log.length * 2);
      grown.set(this.log);
      this.log = grown;
    }
    const log = this.log;
    const at = this.logUsed;
    if (v4) {
      log[at] = 0;
      log[at + 1] = src[o + 3]!;
      log[at + 2] = dst[o + 3]!;
    } else {
      log[at] = 1;
      log.set(src.subarray(o, o + AW), at + 1);
      log.set(dst.subarray(o, o + AW), at + 1 + AW);
    }
    this.logUsed = at + 1 + words;
  }

  /** each logged conversation's counts to its source and destination; from now on flows count in them as they come */
  settle(): void {
    if (!this.deferred) return;
    this.deferred = false;
    const log = this.log;
    for (let i = 0; i < this.logUsed;) {
      const v6 = log[i] === 1;
      const t = v6 ? this.conv6 : this.conv4;
      const o = v6 ? t.find(log, i + 1) : t.find2(log[i + 1]!, log[i + 2]!);
      const c = t.counts;
      const [flows, bytes, packets] = [c[o]!, c[o + 1]!, c[o + 2]!];
      if (v6) {
        this.addAddress(this.src4, this.src6, log, i + 1, bytes, packets, flows);
        this.addAddress(this.dst4, this.dst6, log, i + 1 + AW, bytes, packets, flows);
      } else {
        this.src4.add1(log[i + 1]!, bytes, packets, flows);
        this.dst4.add1(log[i + 2]!, bytes, packets, flows);
      }
      i += 1 + (v6 ? 2 * AW : 2);
    }
    this.log = new Uint32Array(0);
    this.logUsed = 0;
  }

  /** an address of AW words at key[off..] into its IPv4 (mapped) or IPv6 table */
  addAddress(t4: KeyTable, t6: KeyTable, key: Uint32Array, off: number, bytes: number, packets: number, flows: number): void {
    if (key[off] === 0 && key[off + 1] === 0 && key[off + 2] === V4_MAPPED_WORD) t4.add1(key[off + 3]!, bytes, packets, flows);
    else t6.add(key, off, bytes, packets, flows);
  }

  exporterId(e: string): number {
    let id = this.exporterIds.get(e);
    if (id === undefined) {
      id = this.exporterNames.length;
      this.exporterNames.push(e);
      this.exporterIds.set(e, id);
    }
    return id;
  }
}

export class TopTalkers {
  #w: Window;
  readonly #key = new Uint32Array(2 * AW);
  #published: readonly TopEntry[] = [];

  constructor(readonly opts: TopOptions) {
    this.#w = new Window(opts.maxKeys);
  }

  /** tallies a batch; `keys`: its small keys already tallied (by the worker that decoded it) */
  add(b: FlowBatch, keys: SmallKeyTally = tallySmallKeys(b)): void {
    const n = b.count;
    if (n === 0) return;
    const w = this.#w;
    const ids = Uint32Array.from(b.exporters, (e) => w.exporterId(e));
    const src = words(b.src, n);
    const dst = words(b.dst, n);
    const key = this.#key;
    const { src4, src6, dst4, dst6, conv4, conv6 } = w;
    for (let i = 0; i < n; i++) {
      const bytes = b.bytes[i]!;
      const packets = b.packets[i]!;
      const o = i * AW;
      const s4 = src[o] === 0 && src[o + 1] === 0 && src[o + 2] === V4_MAPPED_WORD;
      const d4 = dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === V4_MAPPED_WORD;
      if (w.deferred) {
        // sources and destinations deferred (Window.deferred): the conversation is the only table
        // the flow touches, unless it is not tallied (its group's budget is spent): then the
        // deferred ones are settled, and this flow and every later one count in all three (the
        // conversation again: still not tallied, so not counted twice)
        let counted: number;
        if (s4 && d4) counted = conv4.add2(src[o + 3]!, dst[o + 3]!, bytes, packets);
        else counted = conv6.add(conversation(key, src, dst, o), 0, bytes, packets);
        if (counted === CLAIMED) w.logConversation(src, dst, o, s4 && d4);
        if (counted !== UNTRACKED) continue;
        w.settle();
      }
      if (s4) src4.add1(src[o + 3]!, bytes, packets);
      else src6.add(src, o, bytes, packets);
      if (d4) dst4.add1(dst[o + 3]!, bytes, packets);
      else dst6.add(dst, o, bytes, packets);
      if (s4 && d4) conv4.add2(src[o + 3]!, dst[o + 3]!, bytes, packets);
      else conv6.add(conversation(key, src, dst, o), 0, bytes, packets);
    }
    // every group's total is the batch's: the sum over its exporters
    const ex = keys.exporter;
    for (let i = 0; i < ex.length; i += KEY_FIELDS) {
      for (const g of [w.src, w.dst, w.conv, w.proto, w.srcPort, w.dstPort, w.exporter]) g.add(ex[i + 1]!, ex[i + 2]!, ex[i + 3]!);
      w.exporterT.add1(ids[ex[i]!]!, ex[i + 2]!, ex[i + 3]!, ex[i + 1]);
    }
    w.protoT.merge(keys.proto);
    w.srcPortT.merge(keys.srcPort);
    w.dstPortT.merge(keys.dstPort);
    for (const [table, entries] of [[w.inIf, keys.inIf], [w.outIf, keys.outIf]] as const) {
      for (let i = 0; i < entries.length; i += KEY_FIELDS) {
        table.add2(ids[Math.floor(entries[i]! / IF_KEY)]!, entries[i]! % IF_KEY, entries[i + 2]!, entries[i + 3]!, entries[i + 1]);
      }
    }
  }

  /** closes the window: its ranking becomes what entries() returns, and a new window starts */
  roll(): void {
    let budget = this.opts.maxSeries;
    const out: TopEntry[] = [];
    const w = this.#w;
    w.settle();
    const names = w.exporterNames;
    /** ranks the slots of one or more tables (candidate c: table c % k, slot c / k) */
    const group = (by: FlowGroupKey, exporter: string, tables: readonly Tally[], first: number | undefined, total: ArrayLike<number>): void => {
      if (total[0] === 0 || budget < 2) return;
      const k = tables.length;
      const cands: number[] = [];
      tables.forEach((t, ti) => {
        for (const s of t.slots(first)) cands.push(s * k + ti);
      });
      const c = (x: number, f: number): number => {
        const t = tables[x % k]!;
        return t.counts[Math.floor(x / k) * t.stride + f]!;
      };
      cands.sort((a, b) => c(b, 1) - c(a, 1) || c(b, 0) - c(a, 0) || a - b);
      const best = cands.slice(0, Math.min(this.opts.n, budget - 1));
      const sum = [0, 0, 0];
      for (const x of best) {
        out.push({ by, exporter, key: tables[x % k]!.text(Math.floor(x / k)), flows: c(x, 0), bytes: c(x, 1), packets: c(x, 2) });
        for (let f = 0; f < 3; f++) sum[f]! += c(x, f);
      }
      out.push({ by, exporter, key: OTHERS, flows: total[0]! - sum[0]!, bytes: total[1]! - sum[1]!, packets: total[2]! - sum[2]! });
      budget -= best.length + 1;
    };
    group('src', '', [w.src4, w.src6], undefined, w.src.total);
    group('dst', '', [w.dst4, w.dst6], undefined, w.dst.total);
    group('conversation', '', [w.conv4, w.conv6], undefined, w.conv.total);
    group('proto', '', [w.protoT], undefined, w.proto.total);
    group('src_port', '', [w.srcPortT], undefined, w.srcPort.total);
    group('dst_port', '', [w.dstPortT], undefined, w.dstPort.total);
    const ex = w.exporterT;
    group('exporter', '', [ex], undefined, w.exporter.total);
    // interfaces per exporter: the busiest exporters first, while the cap allows; an exporter's
    // total over its interfaces is its total in the exporter table
    const totals = new Map(ex.slots().map((s) => [ex.word(s, 0), ex.counts.subarray(s * ex.stride, s * ex.stride + 3)] as const));
    const order = [...totals.keys()].sort((a, b) => totals.get(b)![1]! - totals.get(a)![1]! || a - b);
    for (const id of order) {
      group('in_if', names[id]!, [w.inIf], id, totals.get(id)!);
      group('out_if', names[id]!, [w.outIf], id, totals.get(id)!);
    }
    this.#published = out;
    this.#w = new Window(this.opts.maxKeys);
  }

  /** the last complete window's entries */
  entries(): readonly TopEntry[] {
    return this.#published;
  }
}
