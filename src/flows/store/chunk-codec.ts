/**
 * The chunked columnar layout of the SQLite flow store, pure: flows of one exporter and one time
 * slice are gathered into a chunk (ChunkBuilder) whose columns are stored as one BLOB each (the
 * typed arrays' bytes, little-endian as on every platform Node runs on), and read back as typed
 * arrays (decodeColumn). Flow ends are stored as unsigned offsets from the chunk's first ms,
 * which a time slice keeps far below 2^32; every other column is the FlowBatch column as it is.
 */
import type { FlowBatch } from '../../packet/flow/types.js';

/** flows of one exporter whose ends fall in the same SLICE_MS share a chunk */
export const CHUNK_SLICE_MS = 60_000;
/** flows per chunk at most */
export const CHUNK_MAX_FLOWS = 8192;

type Kind = 'end' | 'f64' | 'u32' | 'u16' | 'u8' | 'addr';

/** Columns of a chunk as their FlowBatch field (exporter is per chunk). */
export type ChunkField = Exclude<keyof FlowBatch, 'count' | 'exporters' | 'exporter'>;

/** Stored columns, in table order: those queries read most first (a row's later BLOBs sit further down its overflow chain). */
export const CHUNK_COLUMNS: readonly { readonly column: string; readonly field: ChunkField; readonly kind: Kind }[] = [
  { column: 'end_ms', field: 'endMs', kind: 'end' },
  { column: 'bytes', field: 'bytes', kind: 'f64' },
  { column: 'packets', field: 'packets', kind: 'f64' },
  { column: 'src', field: 'src', kind: 'addr' },
  { column: 'dst', field: 'dst', kind: 'addr' },
  { column: 'src_port', field: 'srcPort', kind: 'u16' },
  { column: 'dst_port', field: 'dstPort', kind: 'u16' },
  { column: 'proto', field: 'proto', kind: 'u8' },
  { column: 'in_if', field: 'inIf', kind: 'u32' },
  { column: 'out_if', field: 'outIf', kind: 'u32' },
  { column: 'tcp_flags', field: 'tcpFlags', kind: 'u8' },
  { column: 'start_ms', field: 'startMs', kind: 'f64' },
  { column: 'version', field: 'version', kind: 'u8' },
  { column: 'domain', field: 'domain', kind: 'u32' },
  { column: 'tos', field: 'tos', kind: 'u8' },
  { column: 'next_hop', field: 'nextHop', kind: 'addr' },
  { column: 'src_as', field: 'srcAs', kind: 'u32' },
  { column: 'dst_as', field: 'dstAs', kind: 'u32' },
  { column: 'raw_bytes', field: 'rawBytes', kind: 'f64' },
  { column: 'raw_packets', field: 'rawPackets', kind: 'f64' },
  { column: 'sampling_rate', field: 'samplingRate', kind: 'u32' },
];

const COLUMN_OF = new Map(CHUNK_COLUMNS.map((c) => [c.field, c]));

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

type Arrays = { -readonly [K in ChunkField]: FlowBatch[K] };

function allocate(capacity: number): Arrays {
  return {
    endMs: new Float64Array(capacity),
    bytes: new Float64Array(capacity),
    packets: new Float64Array(capacity),
    src: new Uint8Array(capacity * 16),
    dst: new Uint8Array(capacity * 16),
    srcPort: new Uint16Array(capacity),
    dstPort: new Uint16Array(capacity),
    proto: new Uint8Array(capacity),
    inIf: new Uint32Array(capacity),
    outIf: new Uint32Array(capacity),
    tcpFlags: new Uint8Array(capacity),
    startMs: new Float64Array(capacity),
    version: new Uint8Array(capacity),
    domain: new Uint32Array(capacity),
    tos: new Uint8Array(capacity),
    nextHop: new Uint8Array(capacity * 16),
    srcAs: new Uint32Array(capacity),
    dstAs: new Uint32Array(capacity),
    rawBytes: new Float64Array(capacity),
    rawPackets: new Float64Array(capacity),
    samplingRate: new Uint32Array(capacity),
  };
}

/** A flow's end as stored: rounded to the ms (0 when it is not a number). */
export const chunkEndMs = (endMs: number): number => (Number.isFinite(endMs) ? Math.round(endMs) : 0);

const copy16 = (to: Uint8Array, toOff: number, from: Uint8Array, fromOff: number): void => {
  for (let k = 0; k < 16; k++) to[toOff + k] = from[fromOff + k]!;
};

/** Gathers the flows of one chunk; growing arrays, reused after take(). */
export class ChunkBuilder {
  #a: Arrays;
  #capacity: number;
  count = 0;
  minEndMs = Infinity;
  maxEndMs = -Infinity;

  constructor(
    public exporter: number,
    capacity = 256,
  ) {
    this.#capacity = capacity;
    this.#a = allocate(capacity);
  }

  #grow(): void {
    const bigger = allocate(Math.min(CHUNK_MAX_FLOWS, this.#capacity * 2));
    for (const { field } of CHUNK_COLUMNS) (bigger[field] as Uint8Array).set(this.#a[field] as Uint8Array);
    this.#a = bigger;
    this.#capacity *= 2;
  }

  /** Appends flow i of the batch (its end rounded to the ms, as queries compare it). */
  append(b: FlowBatch, i: number): void {
    if (this.count === this.#capacity) this.#grow();
    const a = this.#a;
    const k = this.count++;
    const end = chunkEndMs(b.endMs[i]!);
    if (end < this.minEndMs) this.minEndMs = end;
    if (end > this.maxEndMs) this.maxEndMs = end;
    a.endMs[k] = end;
    a.bytes[k] = b.bytes[i]!;
    a.packets[k] = b.packets[i]!;
    copy16(a.src, k * 16, b.src, i * 16);
    copy16(a.dst, k * 16, b.dst, i * 16);
    copy16(a.nextHop, k * 16, b.nextHop, i * 16);
    a.srcPort[k] = b.srcPort[i]!;
    a.dstPort[k] = b.dstPort[i]!;
    a.proto[k] = b.proto[i]!;
    a.inIf[k] = b.inIf[i]!;
    a.outIf[k] = b.outIf[i]!;
    a.tcpFlags[k] = b.tcpFlags[i]!;
    a.startMs[k] = b.startMs[i]!;
    a.version[k] = b.version[i]!;
    a.domain[k] = b.domain[i]!;
    a.tos[k] = b.tos[i]!;
    a.srcAs[k] = b.srcAs[i]!;
    a.dstAs[k] = b.dstAs[i]!;
    a.rawBytes[k] = b.rawBytes[i]!;
    a.rawPackets[k] = b.rawPackets[i]!;
    a.samplingRate[k] = b.samplingRate[i]!;
  }

  /** The chunk's BLOBs (copies: the builder is empty and reusable afterwards). */
  take(): EncodedChunk {
    const n = this.count;
    const blobs: Buffer[] = [];
    let size = 0;
    for (const { field, kind } of CHUNK_COLUMNS) {
      let blob: Buffer;
      if (kind === 'end') {
        const offsets = new Uint32Array(n);
        const ends = this.#a.endMs;
        for (let k = 0; k < n; k++) offsets[k] = ends[k]! - this.minEndMs;
        blob = Buffer.from(offsets.buffer);
      } else {
        const col = this.#a[field];
        blob = Buffer.from(col.buffer.slice(0, n * (kind === 'addr' ? 16 : col.BYTES_PER_ELEMENT)) as ArrayBuffer);
      }
      size += blob.byteLength;
      blobs.push(blob);
    }
    const chunk: EncodedChunk = { exporter: this.exporter, minEndMs: this.minEndMs, maxEndMs: this.maxEndMs, flows: n, size, blobs };
    this.count = 0;
    this.minEndMs = Infinity;
    this.maxEndMs = -Infinity;
    return chunk;
  }
}

/**
 * Cuts batches into chunks of one exporter (by id: exporterIds gives the ids of a batch's
 * `exporters`) and one time slice, at most CHUNK_MAX_FLOWS each, handed to `emit`: full ones at
 * once, the rest at the end in order of their first end. `spare` keeps builders for reuse.
 */
export function cutChunks(batches: readonly FlowBatch[], exporterIds: (b: FlowBatch) => readonly number[], emit: (c: EncodedChunk) => void, spare: ChunkBuilder[] = []): void {
  const open = new Map<number, ChunkBuilder>();
  for (const b of batches) {
    const ids = exporterIds(b);
    let lastKey = NaN;
    let builder: ChunkBuilder | undefined;
    for (let i = 0; i < b.count; i++) {
      const exporter = ids[b.exporter[i]!] ?? 0;
      const key = exporter * 4294967296 + Math.floor(chunkEndMs(b.endMs[i]!) / CHUNK_SLICE_MS);
      if (key !== lastKey || builder === undefined) {
        lastKey = key;
        builder = open.get(key);
        if (builder === undefined) {
          builder = spare.pop() ?? new ChunkBuilder(exporter);
          builder.exporter = exporter;
          open.set(key, builder);
        }
      }
      builder.append(b, i);
      if (builder.count === CHUNK_MAX_FLOWS) emit(builder.take());
    }
  }
  const rest = [...open.values()].filter((b) => b.count > 0).sort((a, b) => a.minEndMs - b.minEndMs);
  for (const b of rest) emit(b.take());
  spare.push(...[...open.values()].slice(0, Math.max(0, 64 - spare.length)));
}

const ELEMENT: Readonly<Record<Exclude<Kind, 'end' | 'addr'>, { readonly bytes: number; readonly make: (b: ArrayBuffer, off: number, n: number) => ArrayBufferView }>> = {
  f64: { bytes: 8, make: (b, off, n) => new Float64Array(b, off, n) },
  u32: { bytes: 4, make: (b, off, n) => new Uint32Array(b, off, n) },
  u16: { bytes: 2, make: (b, off, n) => new Uint16Array(b, off, n) },
  u8: { bytes: 1, make: (b, off, n) => new Uint8Array(b, off, n) },
};

/** Typed-array view of a BLOB of `length` bytes (copied first when it is not aligned to `align`); null when its length differs. */
function view<T>(blob: Uint8Array, length: number, align: number, make: (b: ArrayBuffer, off: number) => T): T | null {
  if (blob.byteLength !== length) return null;
  let b = blob;
  if (b.byteOffset % align !== 0 || !(b.buffer instanceof ArrayBuffer)) b = new Uint8Array(blob);
  return make(b.buffer as ArrayBuffer, b.byteOffset);
}

/** Decodes the BLOB of `field` of a chunk of `flows` flows whose first end is minEndMs; null when the BLOB is malformed. */
export function decodeColumn<F extends ChunkField>(field: F, blob: Uint8Array, flows: number, minEndMs: number): FlowBatch[F] | null {
  const { kind } = COLUMN_OF.get(field)!;
  if (kind === 'end') {
    const offsets = view(blob, flows * 4, 4, (b, off) => new Uint32Array(b, off, flows));
    if (offsets === null) return null;
    const ends = new Float64Array(flows);
    for (let k = 0; k < flows; k++) ends[k] = minEndMs + offsets[k]!;
    return ends as FlowBatch[F];
  }
  if (kind === 'addr') return view(blob, flows * 16, 1, (b, off) => new Uint8Array(b, off, flows * 16)) as FlowBatch[F] | null;
  const e = ELEMENT[kind];
  return view(blob, flows * e.bytes, e.bytes, (b, off) => e.make(b, off, flows)) as FlowBatch[F] | null;
}

/** A whole chunk back as a FlowBatch of one exporter (retention trims chunks through it); null when a BLOB is malformed. */
export function decodeChunk(exporter: string, flows: number, minEndMs: number, blobs: Readonly<Record<string, Uint8Array>>): FlowBatch | null {
  const out: Record<string, unknown> = { count: flows, exporters: [exporter], exporter: new Uint16Array(flows) };
  for (const { column, field } of CHUNK_COLUMNS) {
    const blob = blobs[column];
    const col = blob === undefined ? null : decodeColumn(field, blob, flows, minEndMs);
    if (col === null) return null;
    out[field] = col;
  }
  return out as unknown as FlowBatch;
}
