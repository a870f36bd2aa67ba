/**
 * Counts (flows, bytes, packets) per address, compact enough for a million distinct addresses:
 * IPv4 and IPv6 addresses live in open-addressing hash tables on typed arrays (no string, no
 * object per address; ~60 B per IPv4 and ~90 B per IPv6 address at the highest load), anything
 * else in a Map. `export()` gives plain typed arrays that cross the worker boundary cheaply;
 * `merge()` adds them up; `top()` ranks and formats only the winners. Pure.
 */
import { formatIp, formatIPv4, parseIPv6Into } from './address.js';
import { fibMix } from './fib-hash.js';

/** Structured-cloneable form: counts are interleaved (flows, bytes, packets) per address. */
export interface TallyData {
  readonly v4: Uint32Array;
  readonly v4Counts: Float64Array;
  /** four big-endian 32-bit words per address */
  readonly v6: Uint32Array;
  readonly v6Counts: Float64Array;
  readonly other: string[];
  readonly otherCounts: Float64Array;
}

export type TallyKey = 'flows' | 'bytes' | 'packets';

export interface Ranked {
  readonly address: string;
  readonly value: number;
}

const OFFSET: Readonly<Record<TallyKey, number>> = { flows: 0, bytes: 1, packets: 2 };

/** Family rank for ties: IPv4, then IPv6, then anything else. */
const V4 = 0;
const V6 = 1;
const OTHER = 2;

interface Candidate {
  value: number;
  family: number;
  /** IPv4: [address]; IPv6: its four words; other: [] */
  words: readonly number[];
  text: string;
}

function lowerAddress(a: Candidate, b: Candidate): boolean {
  for (let i = 0; i < a.words.length; i++) {
    if (a.words[i] !== b.words[i]) return (a.words[i] ?? 0) < (b.words[i] ?? 0);
  }
  return a.text < b.text;
}

/** a ranks before b: larger value, then IPv4 before IPv6 before others, then lower address */
function before(a: Candidate, b: Candidate): boolean {
  if (a.value !== b.value) return a.value > b.value;
  if (a.family !== b.family) return a.family < b.family;
  return lowerAddress(a, b);
}

/** Keeps the best `n` candidates, best first (sorted insertion; most candidates lose at once). */
class TopList {
  readonly items: Candidate[] = [];
  constructor(readonly n: number) {}

  offer(value: number, family: number, words: readonly number[], text: string): void {
    const last = this.items[this.n - 1];
    if (value <= 0 || (last !== undefined && value < last.value)) return;
    const c = { value, family, words, text };
    if (last !== undefined && !before(c, last)) return;
    let j = last === undefined ? this.items.length : this.n - 1;
    while (j > 0 && before(c, this.items[j - 1]!)) {
      this.items[j] = this.items[j - 1]!;
      j--;
    }
    this.items[j] = c;
  }
}

/**
 * An open-addressing table of fixed-width keys (`width` 32-bit words) with three counts each;
 * flows 0 marks an empty slot.
 */
class KeyTable {
  bits = 10;
  keys: Uint32Array;
  counts = new Float64Array(3 << 10);
  size = 0;

  constructor(readonly width: number) {
    this.keys = new Uint32Array(width << 10);
  }

  #slot(key: ArrayLike<number>, off: number): number {
    let h = 0;
    for (let k = 0; k < this.width; k++) h = fibMix(h, key[off + k] ?? 0);
    return h >>> (32 - this.bits);
  }

  add(key: ArrayLike<number>, off: number, flows: number, bytes: number, packets: number): void {
    if (flows <= 0) return;
    if ((this.size + 1) * 10 > (this.counts.length / 3) * 7) this.#grow();
    const w = this.width;
    const mask = (1 << this.bits) - 1;
    for (let i = this.#slot(key, off); ; i = (i + 1) & mask) {
      const c = i * 3;
      const counts = this.counts;
      if (counts[c] === 0) {
        for (let k = 0; k < w; k++) this.keys[i * w + k] = key[off + k] ?? 0;
        counts[c] = flows;
        counts[c + 1] = bytes;
        counts[c + 2] = packets;
        this.size++;
        return;
      }
      let same = true;
      for (let k = 0; k < w && same; k++) same = this.keys[i * w + k] === key[off + k];
      if (same) {
        counts[c] = (counts[c] ?? 0) + flows;
        counts[c + 1] = (counts[c + 1] ?? 0) + bytes;
        counts[c + 2] = (counts[c + 2] ?? 0) + packets;
        return;
      }
    }
  }

  #grow(): void {
    const { keys, counts, width: w } = this;
    this.bits++;
    this.keys = new Uint32Array(w << this.bits);
    this.counts = new Float64Array(3 << this.bits);
    this.size = 0;
    for (let i = 0; i < counts.length / 3; i++) {
      const c = i * 3;
      const flows = counts[c] ?? 0;
      if (flows > 0) this.add(keys, i * w, flows, counts[c + 1] ?? 0, counts[c + 2] ?? 0);
    }
  }

  /** the used slots, packed: keys and counts */
  export(): { keys: Uint32Array; counts: Float64Array } {
    const w = this.width;
    const keys = new Uint32Array(this.size * w);
    const counts = new Float64Array(this.size * 3);
    let n = 0;
    for (let i = 0; i < this.counts.length / 3; i++) {
      const c = i * 3;
      if ((this.counts[c] ?? 0) === 0) continue;
      keys.set(this.keys.subarray(i * w, i * w + w), n * w);
      counts.set(this.counts.subarray(c, c + 3), n * 3);
      n++;
    }
    return { keys, counts };
  }

  merge(keys: Uint32Array, counts: Float64Array): void {
    for (let i = 0; i < counts.length / 3; i++) this.add(keys, i * this.width, counts[i * 3] ?? 0, counts[i * 3 + 1] ?? 0, counts[i * 3 + 2] ?? 0);
  }

  /** offers every used slot to `list` by count `off` (addresses are formatted by top(), winners only) */
  offer(list: TopList, family: number, off: number): void {
    const w = this.width;
    for (let i = 0; i < this.counts.length / 3; i++) {
      const c = i * 3;
      const value = this.counts[c + off] ?? 0;
      if ((this.counts[c] ?? 0) === 0 || value <= 0) continue;
      const last = list.items[list.n - 1];
      if (last !== undefined && value < last.value) continue;
      list.offer(value, family, Array.from(this.keys.subarray(i * w, i * w + w)), '');
    }
  }
}

function v6Text(words: readonly number[]): string {
  const b = new Uint8Array(16);
  const view = new DataView(b.buffer);
  words.forEach((w, k) => view.setUint32(k * 4, w));
  return formatIp(b);
}

export class AddressTally {
  readonly #v4 = new KeyTable(1);
  readonly #v6 = new KeyTable(4);
  readonly #one = new Uint32Array(1);
  readonly #words = new Uint32Array(4);
  readonly #bytes = new Uint8Array(16);
  readonly #otherIndex = new Map<string, number>();
  readonly #other: string[] = [];
  readonly #otherCounts: number[] = [];

  get size(): number {
    return this.#v4.size + this.#v6.size + this.#other.length;
  }

  /** Adds to an IPv4 address (uint32). Entries with `flows` ≤ 0 are ignored. */
  addV4(ip: number, flows: number, bytes: number, packets: number): void {
    this.#one[0] = ip;
    this.#v4.add(this.#one, 0, flows, bytes, packets);
  }

  /** Adds to any other address: IPv6 text goes to the IPv6 table, anything else to a Map. */
  addOther(address: string, flows: number, bytes: number, packets: number): void {
    if (flows <= 0) return;
    if (this.#v6Words(address)) {
      this.#v6.add(this.#words, 0, flows, bytes, packets);
      return;
    }
    const i = this.#otherIndex.get(address);
    const counts = this.#otherCounts;
    if (i === undefined) {
      this.#otherIndex.set(address, this.#other.length);
      this.#other.push(address);
      counts.push(flows, bytes, packets);
      return;
    }
    counts[i * 3] = (counts[i * 3] ?? 0) + flows;
    counts[i * 3 + 1] = (counts[i * 3 + 1] ?? 0) + bytes;
    counts[i * 3 + 2] = (counts[i * 3 + 2] ?? 0) + packets;
  }

  /** IPv6 text into #words, without allocating */
  #v6Words(address: string): boolean {
    const b = this.#bytes;
    if (address.indexOf(':') < 0 || !parseIPv6Into(address, b)) return false;
    for (let k = 0; k < 4; k++) this.#words[k] = ((b[k * 4]! << 24) | (b[k * 4 + 1]! << 16) | (b[k * 4 + 2]! << 8) | b[k * 4 + 3]!) >>> 0;
    return true;
  }

  export(): TallyData {
    const v4 = this.#v4.export();
    const v6 = this.#v6.export();
    return { v4: v4.keys, v4Counts: v4.counts, v6: v6.keys, v6Counts: v6.counts, other: [...this.#other], otherCounts: Float64Array.from(this.#otherCounts) };
  }

  merge(d: TallyData): void {
    this.#v4.merge(d.v4, d.v4Counts);
    this.#v6.merge(d.v6, d.v6Counts);
    const b = d.otherCounts;
    for (let i = 0; i < d.other.length; i++) this.addOther(d.other[i] ?? '', b[i * 3] ?? 0, b[i * 3 + 1] ?? 0, b[i * 3 + 2] ?? 0);
  }

  /** The `n` addresses with the largest `key`, largest first; zero values left out. */
  top(key: TallyKey, n: number): Ranked[] {
    if (n <= 0) return [];
    const off = OFFSET[key];
    const list = new TopList(n);
    this.#v4.offer(list, V4, off);
    this.#v6.offer(list, V6, off);
    for (let i = 0; i < this.#other.length; i++) list.offer(this.#otherCounts[i * 3 + off] ?? 0, OTHER, [], this.#other[i] ?? '');
    const text = (c: Candidate): string => (c.family === V4 ? formatIPv4(c.words[0] ?? 0) : c.family === V6 ? v6Text(c.words) : c.text);
    return list.items.map((c) => ({ address: text(c), value: c.value }));
  }
}
