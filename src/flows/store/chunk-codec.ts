/**
 * The chunked columnar layout of the SQLite flow store, pure: flows of one exporter and one time
 * slice are gathered into a chunk (cutChunks) whose columns are stored as one BLOB each, lightly
 * encoded (little-endian, as on every platform Node runs on), and read back as the FlowBatch
 * typed arrays (decodeColumn). A BLOB's length tells its encoding, for a chunk of n flows:
 *   numbers: 8n float64 as given; 4n, 2n or n unsigned integers of 32, 16 or 8 bits (the
 *     narrowest that holds every value); 4 bytes when n > 4: one uint32 value for all flows;
 *     raw bytes and packets: 0 bytes when equal to the scaled ones (unsampled);
 *   ends: offsets from the chunk's first end (a slice keeps them below 2^16);
 *   starts: durations (end - start) as above when they are whole ms in [0, 2^32), else 8n ms;
 *   addresses: 16n bytes; 4n when every one is IPv4 (mapped); 16 when n > 4 and all are equal.
 */
import type { FlowBatch } from '../../packet/flow/types.js';

/** flows of one exporter whose ends fall in the same SLICE_MS share a chunk */
export const CHUNK_SLICE_MS = 60_000;
/** flows per chunk at most */
export const CHUNK_MAX_FLOWS = 8192;

type Kind = 'end' | 'start' | 'number' | 'raw' | 'addr';

/** Columns of a chunk as their FlowBatch field (exporter is per chunk). */
export type ChunkField = Exclude<keyof FlowBatch, 'count' | 'exporters' | 'exporter'>;

/** Stored columns, in table order: those queries read most first (a row's later BLOBs sit further down its overflow chain). */
export const CHUNK_COLUMNS: readonly { readonly column: string; readonly field: ChunkField; readonly kind: Kind }[] = [
  { column: 'end_ms', field: 'endMs', kind: 'end' },
  { column: 'bytes', field: 'bytes', kind: 'number' },
  { column: 'packets', field: 'packets', kind: 'number' },
  { column: 'src', field: 'src', kind: 'addr' },
  { column: 'dst', field: 'dst', kind: 'addr' },
  { column: 'src_port', field: 'srcPort', kind: 'number' },
  { column: 'dst_port', field: 'dstPort', kind: 'number' },
  { column: 'proto', field: 'proto', kind: 'number' },
  { column: 'in_if', field: 'inIf', kind: 'number' },
  { column: 'out_if', field: 'outIf', kind: 'number' },
  { column: 'tcp_flags', field: 'tcpFlags', kind: 'number' },
  { column: 'start_ms', field: 'startMs', kind: 'start' },
  { column: 'version', field: 'version', kind: 'number' },
  { column: 'domain', field: 'domain', kind: 'number' },
  { column: 'tos', field: 'tos', kind: 'number' },
  { column: 'next_hop', field: 'nextHop', kind: 'addr' },
  { column: 'src_as', field: 'srcAs', kind: 'number' },
  { column: 'dst_as', field: 'dstAs', kind: 'number' },
  { column: 'raw_bytes', field: 'rawBytes', kind: 'raw' },
  { column: 'raw_packets', field: 'rawPackets', kind: 'raw' },
  { column: 'sampling_rate', field: 'samplingRate', kind: 'number' },
];

const COLUMN_OF = new Map(CHUNK_COLUMNS.map((c) => [c.field, c]));
/** the scaled column a raw one equals when unsampled */
const SCALED: Partial<Record<ChunkField, ChunkField>> = { rawBytes: 'bytes', rawPackets: 'packets' };

export function chunkColumn(field: ChunkField): string {
  return COLUMN_OF.get(field)!.column;
}

/** Decoded columns of one chunk: the requested fields, as the FlowBatch types (endMs in Unix ms). */
export type ChunkColumns = { -readonly [K in ChunkField]?: FlowBatch[K] };

/** One chunk ready to insert: its key columns and one BLOB per CHUNK_COLUMNS entry, in order. */
export interface EncodedChunk {
  readonly exporter: number;
  readonly minEndMs: number;
  readonly maxEndMs: number;
  readonly flows: number;
  /** bytes of all BLOBs */
  readonly size: number;
  readonly blobs: readonly Buffer[];
}

/** A flow's end as stored: rounded to the ms (0 when it is not a number). */
export const chunkEndMs = (endMs: number): number => (Number.isFinite(endMs) ? Math.round(endMs) : 0);

/** Flows of a chunk taken from one batch: runs of consecutive flows, as [start, end) pairs in ascending order. */
export interface ChunkPart {
  readonly batch: FlowBatch;
  readonly runs: readonly number[];
}

/** appends flow i to runs: extends the last run when i follows it */
export function addToRuns(runs: number[], i: number): void {
  if (runs.length > 0 && runs[runs.length - 1] === i) runs[runs.length - 1] = i + 1;
  else runs.push(i, i + 1);
}

/** flows in a part */
const partFlows = (runs: readonly number[]): number => {
  let n = 0;
  for (let r = 0; r < runs.length; r += 2) n += runs[r + 1]! - runs[r]!;
  return n;
};

/** runs shorter than this are copied element by element (a subarray costs an object) */
const COPY_RUN = 8;

type NumberArray = Float64Array | Uint32Array | Uint16Array | Uint8Array;

const bufferOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The narrowest encoding of whole numbers in [0, 2^32), or null when one is not. `v` may become the BLOB (as a view). */
function encodeUints(v: NumberArray, n: number): Buffer | null {
  let max = 0;
  let equal = true;
  const first = v[0]!;
  for (let k = 0; k < n; k++) {
    const x = v[k]!;
    if (x > max) max = x;
    if (x !== first) equal = false;
  }
  if (!(v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array)) {
    if (max > 0xffffffff) return null;
    for (let k = 0; k < n; k++) {
      const x = v[k]!;
      if (x < 0 || x !== Math.floor(x)) return null;
    }
  }
  if (equal && n > 4) return bufferOf(Uint32Array.of(first));
  const bytes = max <= 0xff ? 1 : max <= 0xffff ? 2 : 4;
  // already the narrowest integer width: the array itself
  if (bytes === v.BYTES_PER_ELEMENT && !(v instanceof Float64Array)) return bufferOf(v.length === n ? v : v.subarray(0, n));
  const out = bytes === 1 ? new Uint8Array(n) : bytes === 2 ? new Uint16Array(n) : new Uint32Array(n);
  if (v.length === n) out.set(v);
  else out.set(v.subarray(0, n));
  return bufferOf(out);
}

/** `v` may become the BLOB (as a view) */
function encodeNumbers(v: NumberArray, n: number): Buffer {
  return encodeUints(v, n) ?? bufferOf(v.length === n ? v : v.slice(0, n));
}

/** IPv4-mapped IPv6 prefix word 2 (bytes 00 00 ff ff) as read through a Uint32Array in native order */
const V4_MAPPED_WORD = new Uint32Array(new Uint8Array([0, 0, 0xff, 0xff]).buffer)[0]!;

/** `a`: n addresses of 16 bytes */
function encodeAddresses(a: Uint8Array, n: number): Buffer {
  if (a.byteOffset % 4 !== 0) a = a.slice(0, n * 16);
  const w = new Uint32Array(a.buffer, a.byteOffset, n * 4);
  let equal = true;
  let v4 = true;
  const [w0, w1, w2, w3] = [w[0], w[1], w[2], w[3]];
  for (let k = 0; k < n * 4 && (equal || v4); k += 4) {
    if (equal && (w[k] !== w0 || w[k + 1] !== w1 || w[k + 2] !== w2 || w[k + 3] !== w3)) equal = false;
    if (v4 && (w[k] !== 0 || w[k + 1] !== 0 || w[k + 2] !== V4_MAPPED_WORD)) v4 = false;
  }
  if (equal && n > 4) return Buffer.from(a.slice(0, 16));
  if (!v4) return bufferOf(a.subarray(0, n * 16));
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = w[k * 4 + 3]!;
  return bufferOf(out);
}

type Gathered = { -readonly [K in ChunkField]: FlowBatch[K] };

// one gather function per element type, so that each loop sees one typed-array type; a run of
// consecutive flows of a batch (the usual case: one exporter, one time slice) is one copy
function gatherF64(parts: readonly ChunkPart[], field: ChunkField, n: number): Float64Array {
  const out = new Float64Array(n);
  let k = 0;
  for (const { batch, runs } of parts) {
    const from = batch[field] as Float64Array;
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1]!;
      if (b - a >= COPY_RUN) out.set(from.subarray(a, b), k);
      else for (let j = a; j < b; j++) out[k + j - a] = from[j]!;
      k += b - a;
    }
  }
  return out;
}

function gatherU32(parts: readonly ChunkPart[], field: ChunkField, n: number): Uint32Array {
  const out = new Uint32Array(n);
  let k = 0;
  for (const { batch, runs } of parts) {
    const from = batch[field] as Uint32Array;
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1]!;
      if (b - a >= COPY_RUN) out.set(from.subarray(a, b), k);
      else for (let j = a; j < b; j++) out[k + j - a] = from[j]!;
      k += b - a;
    }
  }
  return out;
}

function gatherU16(parts: readonly ChunkPart[], field: ChunkField, n: number): Uint16Array {
  const out = new Uint16Array(n);
  let k = 0;
  for (const { batch, runs } of parts) {
    const from = batch[field] as Uint16Array;
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1]!;
      if (b - a >= COPY_RUN) out.set(from.subarray(a, b), k);
      else for (let j = a; j < b; j++) out[k + j - a] = from[j]!;
      k += b - a;
    }
  }
  return out;
}

/** one byte per flow, or `width` bytes per flow (addresses: 16) */
function gatherU8(parts: readonly ChunkPart[], field: ChunkField, n: number, width: number): Uint8Array {
  const out = new Uint8Array(n * width);
  let k = 0;
  for (const { batch, runs } of parts) {
    const from = batch[field] as Uint8Array;
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]! * width;
      const b = runs[r + 1]! * width;
      if (b - a >= COPY_RUN) out.set(from.subarray(a, b), k);
      else for (let j = a; j < b; j++) out[k + j - a] = from[j]!;
      k += b - a;
    }
  }
  return out;
}

/** The chunk's columns, gathered column by column from its parts (views of the batch's when the chunk is one run of one batch: read only). */
function gather(parts: readonly ChunkPart[], n: number): Gathered {
  const out: Record<string, NumberArray> = {};
  const only = parts.length === 1 && parts[0]!.runs.length === 2 ? parts[0]! : null;
  for (const { field, kind } of CHUNK_COLUMNS) {
    const proto = parts[0]!.batch[field];
    if (only !== null) {
      // one run of one batch: views of its columns, no copy
      const [a, b] = only.runs as [number, number];
      const w = kind === 'addr' ? 16 : 1;
      out[field] = proto.subarray(a * w, b * w);
      continue;
    }
    out[field] =
      kind === 'addr'
        ? gatherU8(parts, field, n, 16)
        : proto instanceof Float64Array
          ? gatherF64(parts, field, n)
          : proto instanceof Uint32Array
            ? gatherU32(parts, field, n)
            : proto instanceof Uint16Array
              ? gatherU16(parts, field, n)
              : gatherU8(parts, field, n, 1);
  }
  return out as unknown as Gathered;
}

function sameValues(a: Float64Array, b: Float64Array, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Encodes the flows of one chunk (at most CHUNK_MAX_FLOWS, one time slice for good pruning). */
export function encodeChunk(exporter: number, parts: readonly ChunkPart[]): EncodedChunk {
  const n = parts.reduce((a, p) => a + partFlows(p.runs), 0);
  const g = gather(parts, n);
  const ends = new Float64Array(n);
  let minEndMs = Infinity;
  let maxEndMs = -Infinity;
  for (let k = 0; k < n; k++) {
    const e = chunkEndMs(g.endMs[k]!);
    ends[k] = e;
    if (e < minEndMs) minEndMs = e;
    if (e > maxEndMs) maxEndMs = e;
  }
  const blobs: Buffer[] = [];
  let size = 0;
  for (const { field, kind } of CHUNK_COLUMNS) {
    let blob: Buffer;
    if (kind === 'end') {
      const offsets = new Float64Array(n);
      for (let k = 0; k < n; k++) offsets[k] = ends[k]! - minEndMs;
      blob = encodeNumbers(offsets, n);
    } else if (kind === 'start') {
      const durations = new Float64Array(n);
      for (let k = 0; k < n; k++) durations[k] = ends[k]! - g.startMs[k]!;
      blob = encodeUints(durations, n) ?? bufferOf(g.startMs);
    } else if (kind === 'addr') blob = encodeAddresses(g[field] as Uint8Array, n);
    else {
      const v = g[field];
      const scaled = SCALED[field];
      blob = scaled !== undefined && sameValues(v as Float64Array, g[scaled] as Float64Array, n) ? Buffer.alloc(0) : encodeNumbers(v, n);
    }
    size += blob.byteLength;
    blobs.push(blob);
  }
  return { exporter, minEndMs, maxEndMs, flows: n, size, blobs };
}

/**
 * Cuts batches into chunks of one exporter (by id: exporterIds gives the ids of a batch's
 * `exporters`) and one time slice, at most CHUNK_MAX_FLOWS each, handed to `emit`: full ones at
 * once, the rest at the end in order of their first end.
 */
export function cutChunks(batches: readonly FlowBatch[], exporterIds: (b: FlowBatch) => readonly number[], emit: (c: EncodedChunk) => void): void {
  interface Open {
    readonly exporter: number;
    parts: { batch: FlowBatch; runs: number[] }[];
    count: number;
    firstEnd: number;
  }
  const open = new Map<number, Open>();
  for (const b of batches) {
    const ids = exporterIds(b);
    let lastKey = NaN;
    let runs: number[] = [];
    let chunk: Open | undefined;
    for (let i = 0; i < b.count; i++) {
      const exporter = ids[b.exporter[i]!] ?? 0;
      const end = chunkEndMs(b.endMs[i]!);
      const key = exporter * 4294967296 + Math.floor(end / CHUNK_SLICE_MS);
      if (key !== lastKey || chunk === undefined) {
        lastKey = key;
        chunk = open.get(key);
        if (chunk === undefined) {
          chunk = { exporter, parts: [], count: 0, firstEnd: end };
          open.set(key, chunk);
        }
        const last = chunk.parts[chunk.parts.length - 1];
        if (last?.batch === b) runs = last.runs;
        else {
          runs = [];
          chunk.parts.push({ batch: b, runs });
        }
      }
      addToRuns(runs, i);
      if (++chunk.count === CHUNK_MAX_FLOWS) {
        emit(encodeChunk(chunk.exporter, chunk.parts));
        open.delete(key);
        chunk = undefined;
      }
    }
  }
  for (const c of [...open.values()].sort((a, b) => a.firstEnd - b.firstEnd)) emit(encodeChunk(c.exporter, c.parts));
}

/** Typed-array view of a BLOB (copied first when it is not aligned to `align`). */
function view<T>(blob: Uint8Array, align: number, make: (b: ArrayBuffer, off: number) => T): T {
  let b = blob;
  if (b.byteOffset % align !== 0 || !(b.buffer instanceof ArrayBuffer)) b = new Uint8Array(blob);
  return make(b.buffer as ArrayBuffer, b.byteOffset);
}

const TARGET: Readonly<Record<string, (new (n: number) => NumberArray) & { readonly BYTES_PER_ELEMENT: number }>> = {
  endMs: Float64Array, startMs: Float64Array, bytes: Float64Array, packets: Float64Array, rawBytes: Float64Array, rawPackets: Float64Array,
  domain: Uint32Array, inIf: Uint32Array, outIf: Uint32Array, srcAs: Uint32Array, dstAs: Uint32Array, samplingRate: Uint32Array,
  srcPort: Uint16Array, dstPort: Uint16Array, version: Uint8Array, proto: Uint8Array, tcpFlags: Uint8Array, tos: Uint8Array,
};

/** A numbers BLOB of n values into the field's typed array (a view when the stored width is the field's own); null when malformed. */
function decodeNumbers(field: ChunkField, blob: Uint8Array, n: number): NumberArray | null {
  const Target = TARGET[field]!;
  const len = blob.byteLength;
  const width = Target.BYTES_PER_ELEMENT;
  if (len === 4 && n > 4) return new Target(n).fill(view(blob, 4, (b, off) => new Uint32Array(b, off, 1))[0]!);
  let stored: NumberArray;
  if (len === n * 8) stored = view(blob, 8, (b, off) => new Float64Array(b, off, n));
  else if (len === n * 4) stored = view(blob, 4, (b, off) => new Uint32Array(b, off, n));
  else if (len === n * 2) stored = view(blob, 2, (b, off) => new Uint16Array(b, off, n));
  else if (len === n) stored = new Uint8Array(blob.buffer, blob.byteOffset, n);
  else return null;
  if (stored.BYTES_PER_ELEMENT === width && stored.constructor === Target) return stored;
  if (stored.BYTES_PER_ELEMENT > width && Target !== Float64Array) return null;
  const out = new Target(n);
  out.set(stored);
  return out;
}

function decodeAddresses(blob: Uint8Array, n: number): Uint8Array | null {
  const len = blob.byteLength;
  if (len === n * 16) return new Uint8Array(blob.buffer, blob.byteOffset, n * 16);
  const out = new Uint8Array(n * 16);
  if (len === 16 && n > 4) {
    for (let k = 0; k < n; k++) out.set(blob, k * 16);
    return out;
  }
  if (len !== n * 4) return null;
  for (let k = 0; k < n; k++) {
    const o = k * 16;
    out[o + 10] = 0xff;
    out[o + 11] = 0xff;
    for (let j = 0; j < 4; j++) out[o + 12 + j] = blob[k * 4 + j]!;
  }
  return out;
}

/**
 * Decodes the BLOB of `field` of a chunk of `flows` flows whose first end is minEndMs; null when
 * it is malformed. Starts need the decoded ends, raw counters the scaled ones (`ref`).
 */
export function decodeColumn<F extends ChunkField>(field: F, blob: Uint8Array, flows: number, minEndMs: number, ref?: Float64Array): FlowBatch[F] | null {
  const { kind } = COLUMN_OF.get(field)!;
  if (kind === 'addr') return decodeAddresses(blob, flows) as FlowBatch[F] | null;
  if (kind === 'raw' && blob.byteLength === 0) return (ref === undefined ? null : ref.slice()) as FlowBatch[F] | null;
  if (kind === 'start' && blob.byteLength === flows * 8) return decodeNumbers(field, blob, flows) as FlowBatch[F] | null;
  const v = decodeNumbers(field, blob, flows);
  if (v === null) return null;
  if (kind === 'end') {
    const ends = v.buffer === blob.buffer ? new Float64Array(v) : (v as Float64Array);
    for (let k = 0; k < flows; k++) ends[k] = minEndMs + ends[k]!;
    return ends as FlowBatch[F];
  }
  if (kind === 'start') {
    if (ref === undefined) return null;
    const starts = v.buffer === blob.buffer ? new Float64Array(v) : (v as Float64Array);
    for (let k = 0; k < flows; k++) starts[k] = ref[k]! - starts[k]!;
    return starts as FlowBatch[F];
  }
  return v as FlowBatch[F];
}

/** A whole chunk back as a FlowBatch of one exporter (retention trims chunks through it); null when a BLOB is malformed. */
export function decodeChunk(exporter: string, flows: number, minEndMs: number, blobs: Readonly<Record<string, Uint8Array>>): FlowBatch | null {
  const out: Record<string, unknown> = { count: flows, exporters: [exporter], exporter: new Uint16Array(flows) };
  for (const { column, field } of CHUNK_COLUMNS) {
    const blob = blobs[column];
    const ref = field === 'startMs' ? out['endMs'] : out[SCALED[field] ?? ''];
    const col = blob === undefined ? null : decodeColumn(field, blob, flows, minEndMs, ref as Float64Array | undefined);
    if (col === null) return null;
    out[field] = col;
  }
  return out as unknown as FlowBatch;
}
