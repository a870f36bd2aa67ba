/**
 * Counts (flows, bytes, packets) per address, compact enough for a million distinct addresses:
 * IPv4 addresses live in an open-addressing hash table on typed arrays (no string, no object
 * per address), anything else (IPv6) in a Map. `export()` gives plain typed arrays that cross
 * the worker boundary cheaply; `merge()` adds them up; `top()` ranks without formatting every
 * address. Pure.
 */

/** Structured-cloneable form: counts are interleaved (flows, bytes, packets) per address. */
export interface TallyData {
  readonly v4: Uint32Array;
  readonly v4Counts: Float64Array;
  readonly other: string[];
  readonly otherCounts: Float64Array;
}

export type TallyKey = 'flows' | 'bytes' | 'packets';

export interface Ranked {
  readonly address: string;
  readonly value: number;
}

const OFFSET: Readonly<Record<TallyKey, number>> = { flows: 0, bytes: 1, packets: 2 };
const GOLDEN = 0x9e3779b1;

export function formatV4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

interface Candidate {
  value: number;
  /** uint32 for IPv4, else -1 */
  v4: number;
  text: string;
}

/** a ranks before b: larger value, then IPv4 before others, then lower address */
function before(a: Candidate, b: Candidate): boolean {
  if (a.value !== b.value) return a.value > b.value;
  if ((a.v4 >= 0) !== (b.v4 >= 0)) return a.v4 >= 0;
  return a.v4 >= 0 ? a.v4 < b.v4 : a.text < b.text;
}

/** Keeps the best `n` candidates, best first (sorted insertion; most candidates lose at once). */
class TopList {
  readonly items: Candidate[] = [];
  constructor(readonly n: number) {}

  offer(value: number, v4: number, text: string): void {
    const last = this.items[this.n - 1];
    if (value <= 0 || (last !== undefined && value < last.value)) return;
    const c = { value, v4, text };
    if (last !== undefined && !before(c, last)) return;
    let j = last === undefined ? this.items.length : this.n - 1;
    while (j > 0 && before(c, this.items[j - 1]!)) {
      this.items[j] = this.items[j - 1]!;
      j--;
    }
    this.items[j] = c;
  }
}

export class AddressTally {
  #bits = 10;
  #keys = new Uint32Array(1 << 10);
  /** flows, bytes, packets per slot; flows 0 = empty slot */
  #counts = new Float64Array(3 << 10);
  #v4Size = 0;
  readonly #otherIndex = new Map<string, number>();
  readonly #other: string[] = [];
  readonly #otherCounts: number[] = [];

  get size(): number {
    return this.#v4Size + this.#other.length;
  }

  /** Adds to an IPv4 address (uint32). Entries with `flows` ≤ 0 are ignored. */
  addV4(ip: number, flows: number, bytes: number, packets: number): void {
    if (flows <= 0) return;
    if ((this.#v4Size + 1) * 10 > this.#keys.length * 7) this.#grow();
    const mask = this.#keys.length - 1;
    let i = Math.imul(ip, GOLDEN) >>> (32 - this.#bits);
    for (;;) {
      const c = i * 3;
      const counts = this.#counts;
      if (counts[c] === 0) {
        this.#keys[i] = ip;
        counts[c] = flows;
        counts[c + 1] = bytes;
        counts[c + 2] = packets;
        this.#v4Size++;
        return;
      }
      if (this.#keys[i] === ip) {
        counts[c] = (counts[c] ?? 0) + flows;
        counts[c + 1] = (counts[c + 1] ?? 0) + bytes;
        counts[c + 2] = (counts[c + 2] ?? 0) + packets;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Adds to any other address (IPv6 text). Entries with `flows` ≤ 0 are ignored. */
  addOther(address: string, flows: number, bytes: number, packets: number): void {
    if (flows <= 0) return;
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

  #grow(): void {
    const keys = this.#keys;
    const counts = this.#counts;
    this.#bits++;
    this.#keys = new Uint32Array(1 << this.#bits);
    this.#counts = new Float64Array(3 << this.#bits);
    this.#v4Size = 0;
    for (let i = 0; i < keys.length; i++) {
      const c = i * 3;
      const flows = counts[c] ?? 0;
      if (flows > 0) this.addV4(keys[i] ?? 0, flows, counts[c + 1] ?? 0, counts[c + 2] ?? 0);
    }
  }

  export(): TallyData {
    const v4 = new Uint32Array(this.#v4Size);
    const v4Counts = new Float64Array(this.#v4Size * 3);
    let n = 0;
    for (let i = 0; i < this.#keys.length; i++) {
      const c = i * 3;
      if ((this.#counts[c] ?? 0) === 0) continue;
      v4[n] = this.#keys[i] ?? 0;
      v4Counts.set(this.#counts.subarray(c, c + 3), n * 3);
      n++;
    }
    return { v4, v4Counts, other: [...this.#other], otherCounts: Float64Array.from(this.#otherCounts) };
  }

  merge(d: TallyData): void {
    const a = d.v4Counts;
    for (let i = 0; i < d.v4.length; i++) this.addV4(d.v4[i] ?? 0, a[i * 3] ?? 0, a[i * 3 + 1] ?? 0, a[i * 3 + 2] ?? 0);
    const b = d.otherCounts;
    for (let i = 0; i < d.other.length; i++) this.addOther(d.other[i] ?? '', b[i * 3] ?? 0, b[i * 3 + 1] ?? 0, b[i * 3 + 2] ?? 0);
  }

  /** The `n` addresses with the largest `key`, largest first; zero values left out. */
  top(key: TallyKey, n: number): Ranked[] {
    if (n <= 0) return [];
    const off = OFFSET[key];
    const list = new TopList(n);
    for (let i = 0; i < this.#keys.length; i++) {
      const c = i * 3;
      if ((this.#counts[c] ?? 0) > 0) list.offer(this.#counts[c + off] ?? 0, this.#keys[i] ?? 0, '');
    }
    for (let i = 0; i < this.#other.length; i++) list.offer(this.#otherCounts[i * 3 + off] ?? 0, -1, this.#other[i] ?? '');
    return list.items.map((c) => ({ address: c.v4 >= 0 ? formatV4(c.v4) : c.text, value: c.value }));
  }
}
