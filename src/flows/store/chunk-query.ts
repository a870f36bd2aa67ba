/**
 * Flow queries over chunks, pure: a spec is compiled once (which columns to read, which
 * exporters' chunks can match), then each chunk of the time range is filtered column by column
 * into a selection of flow indices and aggregated with typed-array loops: totals, groups in an
 * open-addressing table keyed by 32-bit words (addresses as four big-endian words, so word order
 * is byte order), or the best `limit` single flows. Results are those of the row-per-flow SQL it
 * replaces: flows whose end is in [floor(from), ceil(to)); groups ordered by the measure, then
 * the key (bytes of addresses, numbers, exporter ids); single flows by the measure, then the
 * end, newest first, then storage order, latest first.
 */
import { AppError, ErrorCodes } from '../../lib/errors.js';
import { addressRange, flowAddressText } from '../flow-address.js';
import type { FlowGroupKey, FlowQueryResult, FlowQueryRow, FlowQuerySpec } from '../types.js';
import type { ChunkColumns, ChunkField } from './chunk-codec.js';

export interface QueryChunk {
  /** storage order: larger ids were written later */
  readonly id: number;
  readonly exporter: number;
  readonly flows: number;
  readonly minEndMs: number;
  readonly maxEndMs: number;
  /** at least the fields ChunkQuery.fields names */
  readonly cols: ChunkColumns;
}

/** lo and hi of each range, four big-endian words each: [lo0..lo3, hi0..hi3, …] */
type Ranges = Uint32Array;

function compileRanges(list: readonly string[] | undefined): Ranges | null {
  if (list === undefined || list.length === 0) return null;
  const out = new Uint32Array(list.length * 8);
  list.forEach((text, r) => {
    const range = addressRange(text);
    if (range === null) throw new AppError(ErrorCodes.FLOWDB_ERR_QUERY_INVALID, `${JSON.stringify(text)} is not an IP address or CIDR`);
    for (let j = 0; j < 4; j++) {
      out[r * 8 + j] = new DataView(range.lo.buffer, range.lo.byteOffset).getUint32(j * 4);
      out[r * 8 + 4 + j] = new DataView(range.hi.buffer, range.hi.byteOffset).getUint32(j * 4);
    }
  });
  return out;
}

const word = (c: Uint8Array, p: number): number => ((c[p]! << 24) | (c[p + 1]! << 16) | (c[p + 2]! << 8) | c[p + 3]!) >>> 0;

/** memcmp of the 16 bytes at c[o] with the four words at ref[ro] */
function cmp16(c: Uint8Array, o: number, ref: Uint32Array, ro: number): number {
  for (let j = 0; j < 4; j++) {
    const w = word(c, o + j * 4);
    const r = ref[ro + j]!;
    if (w !== r) return w < r ? -1 : 1;
  }
  return 0;
}

function inRanges(c: Uint8Array, o: number, ranges: Ranges): boolean {
  for (let r = 0; r < ranges.length; r += 8) if (cmp16(c, o, ranges, r) >= 0 && cmp16(c, o, ranges, r + 4) <= 0) return true;
  return false;
}

function table(size: number, list: readonly number[] | undefined): Uint8Array | null {
  if (list === undefined || list.length === 0) return null;
  const t = new Uint8Array(size);
  for (const v of list) if (Number.isInteger(v) && v >= 0 && v < size) t[v] = 1;
  return t;
}

const set = (list: readonly number[] | undefined): ReadonlySet<number> | null => (list === undefined || list.length === 0 ? null : new Set(list));

/** Groups keyed by `width` 32-bit words with their flow, byte and packet sums. */
class GroupTable {
  size = 0;
  #slots: Int32Array;
  keys: Uint32Array;
  flows: Float64Array;
  bytes: Float64Array;
  packets: Float64Array;

  constructor(readonly width: number) {
    this.#slots = new Int32Array(1024).fill(-1);
    this.keys = new Uint32Array(512 * width);
    this.flows = new Float64Array(512);
    this.bytes = new Float64Array(512);
    this.packets = new Float64Array(512);
  }

  #hash(key: Uint32Array, ko: number): number {
    let h = 0x811c9dc5;
    for (let j = 0; j < this.width; j++) h = Math.imul(h ^ key[ko + j]!, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return (h ^ (h >>> 12)) >>> 0;
  }

  #grow(): void {
    const n = this.flows.length * 2;
    const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T, per = 1): T => {
      const b = make(n * per);
      b.set(a);
      return b;
    };
    this.keys = grow(this.keys, (k) => new Uint32Array(k), this.width);
    this.flows = grow(this.flows, (k) => new Float64Array(k));
    this.bytes = grow(this.bytes, (k) => new Float64Array(k));
    this.packets = grow(this.packets, (k) => new Float64Array(k));
    this.#slots = new Int32Array(n * 2).fill(-1);
    const mask = this.#slots.length - 1;
    for (let g = 0; g < this.size; g++) {
      let s = this.#hash(this.keys, g * this.width) & mask;
      while (this.#slots[s] !== -1) s = (s + 1) & mask;
      this.#slots[s] = g;
    }
  }

  add(key: Uint32Array, bytes: number, packets: number): void {
    const w = this.width;
    const mask = this.#slots.length - 1;
    for (let s = this.#hash(key, 0) & mask; ; s = (s + 1) & mask) {
      const g = this.#slots[s]!;
      if (g === -1) {
        if (this.size === this.flows.length) {
          this.#grow();
          this.add(key, bytes, packets);
          return;
        }
        const n = this.size++;
        for (let j = 0; j < w; j++) this.keys[n * w + j] = key[j]!;
        this.#slots[s] = n;
        this.flows[n] = 1;
        this.bytes[n] = bytes;
        this.packets[n] = packets;
        return;
      }
      let same = true;
      for (let j = 0; j < w && same; j++) same = this.keys[g * w + j] === key[j];
      if (same) {
        this.flows[g]!++;
        this.bytes[g]! += bytes;
        this.packets[g]! += packets;
        return;
      }
    }
  }
}

/** A group key's width in words, the columns it reads, and how a flow's key is written. */
interface KeyDef {
  readonly width: number;
  readonly fields: readonly ChunkField[];
  readonly fill: (key: Uint32Array, c: ChunkColumns, i: number, exporter: number) => void;
  readonly row: (key: Uint32Array, ko: number, exporters: ReadonlyMap<number, string>) => Record<string, string | number>;
}

const addrKey = (field: 'src' | 'dst'): KeyDef => ({
  width: 4,
  fields: [field],
  fill: (key, c, i) => {
    const col = c[field]!;
    for (let j = 0; j < 4; j++) key[j] = word(col, i * 16 + j * 4);
  },
  row: (key, ko) => ({ [field]: addressTextOf(key, ko) }),
});

function addressTextOf(key: Uint32Array, ko: number): string {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  for (let j = 0; j < 4; j++) v.setUint32(j * 4, key[ko + j]!);
  return flowAddressText(b);
}

const numberKey = (name: string, field: 'proto' | 'srcPort' | 'dstPort' | 'inIf' | 'outIf'): KeyDef => ({
  width: 1,
  fields: [field],
  fill: (key, c, i) => {
    key[0] = c[field]![i]!;
  },
  row: (key, ko) => ({ [name]: key[ko]! }),
});

const KEYS: Readonly<Record<FlowGroupKey, KeyDef>> = {
  src: addrKey('src'),
  dst: addrKey('dst'),
  conversation: {
    width: 8,
    fields: ['src', 'dst'],
    fill: (key, c, i) => {
      for (let j = 0; j < 4; j++) {
        key[j] = word(c.src!, i * 16 + j * 4);
        key[4 + j] = word(c.dst!, i * 16 + j * 4);
      }
    },
    row: (key, ko) => ({ src: addressTextOf(key, ko), dst: addressTextOf(key, ko + 4) }),
  },
  proto: numberKey('proto', 'proto'),
  src_port: numberKey('src_port', 'srcPort'),
  dst_port: numberKey('dst_port', 'dstPort'),
  in_if: numberKey('in_if', 'inIf'),
  out_if: numberKey('out_if', 'outIf'),
  exporter: {
    width: 1,
    fields: [],
    fill: (key, _c, _i, exporter) => {
      key[0] = exporter;
    },
    row: (key, ko, exporters) => ({ exporter: exporters.get(key[ko]!) ?? '' }),
  },
};

/** columns a single-flow row shows */
const ROW_FIELDS: readonly ChunkField[] = ['startMs', 'src', 'dst', 'srcPort', 'dstPort', 'proto', 'tcpFlags', 'inIf', 'outIf'];

interface Candidate {
  readonly measure: number;
  readonly end: number;
  readonly chunk: number;
  readonly index: number;
  readonly row: FlowQueryRow;
}

/** a before b in a single-flow result */
const before = (a: Candidate, b: Candidate): number => b.measure - a.measure || b.end - a.end || b.chunk - a.chunk || b.index - a.index;

const isoOf = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(Math.round(ms)).toISOString() : '');

export class ChunkQuery {
  /** the columns to decode for each chunk */
  readonly fields: readonly ChunkField[];
  /** exporter ids whose chunks can match (null: any) */
  readonly exporterIds: readonly number[] | null;
  /** scan the newest chunks first (single flows: the best candidates come early) */
  readonly newestFirst: boolean;
  readonly #spec: FlowQuerySpec;
  readonly #exporters: ReadonlyMap<number, string>;
  readonly #from: number;
  readonly #to: number;
  readonly #src: Ranges | null;
  readonly #dst: Ranges | null;
  readonly #addr: Ranges | null;
  readonly #srcPort: Uint8Array | null;
  readonly #dstPort: Uint8Array | null;
  readonly #port: Uint8Array | null;
  readonly #proto: Uint8Array | null;
  readonly #inIf: ReadonlySet<number> | null;
  readonly #outIf: ReadonlySet<number> | null;
  readonly #key: KeyDef | null;
  readonly #groups: GroupTable | null;
  readonly #scratch: Uint32Array;
  #sel = new Uint32Array(1024);
  #flows = 0;
  #bytes = 0;
  #packets = 0;
  #candidates: Candidate[] = [];
  /** the worst candidate kept once the list was cut to `limit` */
  #worst: Candidate | null = null;

  /** FLOWDB_ERR_QUERY_INVALID for an address or CIDR that does not parse. */
  constructor(spec: FlowQuerySpec, exporters: ReadonlyMap<number, string>) {
    this.#spec = spec;
    this.#exporters = exporters;
    this.#from = Math.floor(spec.fromMs);
    this.#to = Math.ceil(spec.toMs);
    const f = spec.filter;
    this.#src = compileRanges(f.src);
    this.#dst = compileRanges(f.dst);
    this.#addr = compileRanges(f.addr);
    this.#srcPort = table(65536, f.srcPort);
    this.#dstPort = table(65536, f.dstPort);
    this.#port = table(65536, f.port);
    this.#proto = table(256, f.proto);
    this.#inIf = set(f.inIf);
    this.#outIf = set(f.outIf);
    if (f.exporter !== undefined && f.exporter.length > 0) {
      const wanted = new Set(f.exporter);
      this.exporterIds = [...exporters].filter(([, address]) => wanted.has(address)).map(([id]) => id);
    } else this.exporterIds = null;
    this.#key = spec.groupBy === undefined ? null : KEYS[spec.groupBy];
    this.#groups = this.#key === null ? null : new GroupTable(this.#key.width);
    this.#scratch = new Uint32Array(this.#key?.width ?? 1);
    this.newestFirst = this.#key === null;
    const fields = new Set<ChunkField>(['endMs', 'bytes', 'packets']);
    if (this.#src !== null || this.#addr !== null) fields.add('src');
    if (this.#dst !== null || this.#addr !== null) fields.add('dst');
    if (this.#srcPort !== null || this.#port !== null) fields.add('srcPort');
    if (this.#dstPort !== null || this.#port !== null) fields.add('dstPort');
    if (this.#proto !== null) fields.add('proto');
    if (this.#inIf !== null) fields.add('inIf');
    if (this.#outIf !== null) fields.add('outIf');
    for (const k of this.#key?.fields ?? ROW_FIELDS) fields.add(k);
    this.fields = [...fields];
  }

  /** Whether a chunk with this exporter and end range can hold a matching flow. */
  wants(exporter: number, minEndMs: number, maxEndMs: number): boolean {
    if (maxEndMs < this.#from || minEndMs >= this.#to) return false;
    return this.exporterIds === null || this.exporterIds.includes(exporter);
  }

  /** The indices of the chunk's flows that match, in #sel; their count. */
  #select(ch: QueryChunk): number {
    const n = ch.flows;
    if (this.#sel.length < n) this.#sel = new Uint32Array(n);
    const sel = this.#sel;
    const c = ch.cols;
    let m = 0;
    if (ch.minEndMs >= this.#from && ch.maxEndMs < this.#to) {
      for (let i = 0; i < n; i++) sel[i] = i;
      m = n;
    } else {
      const end = c.endMs!;
      for (let i = 0; i < n; i++) {
        const e = end[i]!;
        if (e >= this.#from && e < this.#to) sel[m++] = i;
      }
    }
    const narrow = (keep: (i: number) => boolean): void => {
      let k = 0;
      for (let j = 0; j < m; j++) {
        const i = sel[j]!;
        if (keep(i)) sel[k++] = i;
      }
      m = k;
    };
    const src = this.#src;
    const dst = this.#dst;
    const addr = this.#addr;
    if (src !== null) narrow((i) => inRanges(c.src!, i * 16, src));
    if (dst !== null) narrow((i) => inRanges(c.dst!, i * 16, dst));
    if (addr !== null) narrow((i) => inRanges(c.src!, i * 16, addr) || inRanges(c.dst!, i * 16, addr));
    const sp = this.#srcPort;
    const dp = this.#dstPort;
    const p = this.#port;
    const proto = this.#proto;
    if (sp !== null) narrow((i) => sp[c.srcPort![i]!] === 1);
    if (dp !== null) narrow((i) => dp[c.dstPort![i]!] === 1);
    if (p !== null) narrow((i) => p[c.srcPort![i]!] === 1 || p[c.dstPort![i]!] === 1);
    if (proto !== null) narrow((i) => proto[c.proto![i]!] === 1);
    const inIf = this.#inIf;
    const outIf = this.#outIf;
    if (inIf !== null) narrow((i) => inIf.has(c.inIf![i]!));
    if (outIf !== null) narrow((i) => outIf.has(c.outIf![i]!));
    return m;
  }

  add(ch: QueryChunk): void {
    if (!this.wants(ch.exporter, ch.minEndMs, ch.maxEndMs)) return;
    const m = this.#select(ch);
    if (m === 0) return;
    const sel = this.#sel;
    const bytes = ch.cols.bytes!;
    const packets = ch.cols.packets!;
    let b = 0;
    let p = 0;
    for (let j = 0; j < m; j++) {
      const i = sel[j]!;
      b += bytes[i]!;
      p += packets[i]!;
    }
    this.#flows += m;
    this.#bytes += b;
    this.#packets += p;
    if (this.#groups !== null) {
      const key = this.#scratch;
      const fill = this.#key!.fill;
      const groups = this.#groups;
      for (let j = 0; j < m; j++) {
        const i = sel[j]!;
        fill(key, ch.cols, i, ch.exporter);
        groups.add(key, bytes[i]!, packets[i]!);
      }
    } else this.#addFlows(ch, m);
  }

  #addFlows(ch: QueryChunk, m: number): void {
    const c = ch.cols;
    const order = this.#spec.orderBy;
    const measureCol = order === 'bytes' ? c.bytes! : order === 'packets' ? c.packets! : c.endMs!;
    const limit = Math.max(1, Math.floor(this.#spec.limit));
    for (let j = 0; j < m; j++) {
      const i = this.#sel[j]!;
      const probe = { measure: measureCol[i]!, end: c.endMs![i]!, chunk: ch.id, index: i };
      if (this.#worst !== null && before(probe as Candidate, this.#worst) >= 0) continue;
      this.#candidates.push({ ...probe, row: this.#flowRow(ch, i) });
      if (this.#candidates.length >= limit * 2) this.#cut(limit);
    }
  }

  #cut(limit: number): void {
    this.#candidates.sort(before);
    this.#candidates.length = Math.min(this.#candidates.length, limit);
    if (this.#candidates.length === limit) this.#worst = this.#candidates[limit - 1]!;
  }

  #flowRow(ch: QueryChunk, i: number): FlowQueryRow {
    const c = ch.cols;
    return {
      key: {
        end: isoOf(c.endMs![i]!),
        start: isoOf(c.startMs![i]!),
        exporter: this.#exporters.get(ch.exporter) ?? '',
        src: flowAddressText(c.src!, i * 16),
        dst: flowAddressText(c.dst!, i * 16),
        src_port: c.srcPort![i]!,
        dst_port: c.dstPort![i]!,
        proto: c.proto![i]!,
        tcp_flags: c.tcpFlags![i]!,
        in_if: c.inIf![i]!,
        out_if: c.outIf![i]!,
      },
      flows: 1,
      bytes: c.bytes![i]!,
      packets: c.packets![i]!,
    };
  }

  result(): FlowQueryResult {
    const limit = Math.max(1, Math.floor(this.#spec.limit));
    const totals = { flows: this.#flows, bytes: this.#bytes, packets: this.#packets };
    if (this.#groups === null) {
      this.#cut(limit);
      return { rows: this.#candidates.map((c) => c.row), totals };
    }
    const g = this.#groups;
    const measure = this.#spec.orderBy === 'bytes' ? g.bytes : this.#spec.orderBy === 'packets' ? g.packets : g.flows;
    const w = g.width;
    const keyOrder = (a: number, b: number): number => {
      for (let j = 0; j < w; j++) {
        const d = g.keys[a * w + j]! - g.keys[b * w + j]!;
        if (d !== 0) return d;
      }
      return 0;
    };
    const ids = Array.from({ length: g.size }, (_, k) => k);
    const order = (a: number, b: number): number => measure[b]! - measure[a]! || keyOrder(a, b);
    const top = selectTop(ids, limit, order);
    const key = this.#key!;
    const rows = top.map((k) => ({ key: key.row(g.keys, k * w, this.#exporters), flows: g.flows[k]!, bytes: g.bytes[k]!, packets: g.packets[k]! }));
    return { rows, totals };
  }
}

/** The first `limit` of `ids` in `order` (a full sort only when there are few). */
function selectTop(ids: number[], limit: number, order: (a: number, b: number) => number): number[] {
  if (ids.length <= limit * 4) return ids.sort(order).slice(0, limit);
  let kept: number[] = [];
  let worst = -1;
  for (const id of ids) {
    if (worst !== -1 && order(id, worst) >= 0) continue;
    kept.push(id);
    if (kept.length >= limit * 2) {
      kept = kept.sort(order).slice(0, limit);
      worst = kept[limit - 1]!;
    }
  }
  return kept.sort(order).slice(0, limit);
}
