/**
 * The stateless half of flow decoding: a DataJob is a batch of flow data sets (their bytes back
 * to back in one transferable buffer) with what decoding them needs — the compiled templates,
 * per-domain snapshots of the sampling state and the export-time context of each set — so that
 * any thread can turn it into a columnar FlowBatch (decodeDataJob) without the decoder's state.
 * The stateful half (packet/flow/decoder.ts) validates every set (records counted, so a
 * malformed datagram is refused whole before any of its sets is queued) and fills the job.
 * Pure.
 */
import { FlowBatchBuilder } from './batch.js';
import { tallySmallKeys, type SmallKeyTally } from './key-tally.js';
import { Op, VARIABLE_LENGTH } from './template.js';
import { FLOW_ADDRESS_BYTES, type FlowBatch, type FlowVersion } from './types.js';

/** What decoding a data record needs of a compiled template (template.ts Plan). */
export interface RecordPlan {
  readonly ops: Uint8Array;
  readonly lengths: Uint16Array;
  readonly fixedLength: number;
  readonly minLength: number;
}

/** A domain's sampling and time state when a set was queued; immutable (a change makes a new one). */
export interface DomainSnap {
  readonly version: FlowVersion;
  readonly domain: number;
  /** IPFIX systemInitTimeMilliseconds, NaN when unknown */
  readonly initMs: number;
  /** rate for records that name no (known) sampler; v5: the header's */
  readonly defaultRate: number;
  /** sampler id, rate, sampler id, rate, ... */
  readonly samplers: readonly number[];
}

/** A set's descriptor in DataJob.sets: SET_FIELDS numbers at set i * SET_FIELDS. */
export const SetField = { PLAN: 0, SNAP: 1, EXPORTER: 2, EXPORT_MS: 3, UPTIME_MS: 4, START: 5, END: 6, RECORDS: 7 } as const;
export const SET_FIELDS = 8;
/** PLAN of a NetFlow v5 record block (48-byte records, no template) */
export const V5_PLAN = -1;
const V5_RECORD = 48;

export interface DataJob {
  /** the sets' bytes; START/END index into it */
  readonly data: Uint8Array;
  readonly sets: Float64Array;
  readonly setCount: number;
  readonly plans: readonly RecordPlan[];
  readonly snaps: readonly DomainSnap[];
  readonly exporters: readonly string[];
  /** datagrams whose sets are in the job */
  readonly datagrams: number;
  /** flow records in all sets */
  readonly records: number;
  /** a spent batch's buffer to decode into when large enough (flows/service.ts recycles them) */
  readonly spare?: ArrayBuffer;
}

/** Per exporter of the job (TALLY_FIELDS each): flows, scaled bytes, scaled packets, rate of the last flow (0: none). */
export const TALLY_FIELDS = 4;

export interface DataJobResult {
  readonly batch: FlowBatch;
  readonly tallies: Float64Array;
  /** sets found malformed here (the decoder validates them first, so 0 unless the job was built wrong) */
  readonly errors: number;
  /** the batch's small top-talker keys, tallied */
  readonly keys: SmallKeyTally;
}

const NO_SAMPLER = -1;
const NTP_EPOCH_S = 2_208_988_800;
const A = FLOW_ADDRESS_BYTES;

/** big-endian readers, shared with the control half (decoder.ts) */
export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function uint(b: Uint8Array, o: number, n: number): number {
  // the common widths without the loop
  if (n === 4) return u32(b, o);
  if (n === 2) return u16(b, o);
  if (n === 1) return b[o]!;
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[o + i]!;
  return v;
}

function put4(col: Uint8Array, row: number, b: Uint8Array, o: number): void {
  const r = row * A;
  col[r + 10] = 0xff;
  col[r + 11] = 0xff;
  col[r + 12] = b[o]!;
  col[r + 13] = b[o + 1]!;
  col[r + 14] = b[o + 2]!;
  col[r + 15] = b[o + 3]!;
}

function put16(col: Uint8Array, row: number, b: Uint8Array, o: number): void {
  col.set(b.subarray(o, o + 16), row * A);
}

/** length of the variable-length field at `off` and the offset of its value; -1 when it does not fit */
function varLength(buf: Uint8Array, off: number, end: number): number {
  if (off >= end) return -1;
  const len = buf[off]!;
  if (len < 255) return len * 4 + 1;
  if (off + 3 > end) return -1;
  return u16(buf, off + 1) * 4 + 3;
}

/**
 * Records in the data set buf[off, end) of `plan`, checking each fits (padding shorter than a
 * record ends the set); -1 when one does not.
 */
export function countRecords(plan: RecordPlan, buf: Uint8Array, off: number, end: number): number {
  if (plan.fixedLength >= 0) return Math.floor((end - off) / plan.fixedLength);
  const { lengths } = plan;
  let n = 0;
  while (end - off >= plan.minLength) {
    for (let i = 0; i < lengths.length; i++) {
      let len = lengths[i]!;
      if (len === VARIABLE_LENGTH) {
        const v = varLength(buf, off, end);
        if (v < 0) return -1;
        len = v >> 2;
        off += v & 3;
      }
      off += len;
      if (off > end) return -1;
    }
    n++;
  }
  return n;
}

/** Collects data sets into a DataJob; mark() / rollback() undo a datagram refused half-way. */
export class DataJobBuilder {
  #data: Uint8Array;
  #used = 0;
  #sets = new Float64Array(SET_FIELDS * 256);
  setCount = 0;
  datagrams = 0;
  records = 0;
  #plans = new Map<RecordPlan, number>();
  #snaps = new Map<DomainSnap, number>();
  #exporters = new Map<string, number>();
  #mark = [0, 0, 0];

  constructor(readonly initialBytes = 256 * 1024) {
    this.#data = new Uint8Array(initialBytes);
  }

  /** bytes queued */
  get bytes(): number {
    return this.#used;
  }

  mark(): void {
    this.#mark = [this.setCount, this.#used, this.records];
  }

  rollback(): void {
    [this.setCount, this.#used, this.records] = this.#mark as [number, number, number];
  }

  /** queues buf[start, end), `records` records of `plan` (null: v5) */
  add(plan: RecordPlan | null, snap: DomainSnap, exporter: string, exportMs: number, uptimeMs: number, buf: Uint8Array, start: number, end: number, records: number): void {
    const len = end - start;
    if (this.#used + len > this.#data.length) {
      const grown = new Uint8Array(Math.max(this.#data.length * 2, this.#used + len));
      grown.set(this.#data.subarray(0, this.#used));
      this.#data = grown;
    }
    this.#data.set(buf.subarray(start, end), this.#used);
    if ((this.setCount + 1) * SET_FIELDS > this.#sets.length) {
      const grown = new Float64Array(this.#sets.length * 2);
      grown.set(this.#sets);
      this.#sets = grown;
    }
    const s = this.#sets;
    const o = this.setCount * SET_FIELDS;
    s[o + SetField.PLAN] = plan === null ? V5_PLAN : index(this.#plans, plan);
    s[o + SetField.SNAP] = index(this.#snaps, snap);
    s[o + SetField.EXPORTER] = index(this.#exporters, exporter);
    s[o + SetField.EXPORT_MS] = exportMs;
    s[o + SetField.UPTIME_MS] = uptimeMs;
    s[o + SetField.START] = this.#used;
    s[o + SetField.END] = this.#used + len;
    s[o + SetField.RECORDS] = records;
    this.#used += len;
    this.setCount++;
    this.records += records;
  }

  /** the job so far (null when empty), and starts over */
  take(): DataJob | null {
    if (this.setCount === 0) {
      this.datagrams = 0;
      return null;
    }
    const job: DataJob = {
      data: this.#data.subarray(0, this.#used),
      sets: this.#sets.slice(0, this.setCount * SET_FIELDS),
      setCount: this.setCount,
      plans: [...this.#plans.keys()].map((p) => ({ ops: p.ops, lengths: p.lengths, fixedLength: p.fixedLength, minLength: p.minLength })),
      snaps: [...this.#snaps.keys()],
      exporters: [...this.#exporters.keys()],
      datagrams: this.datagrams,
      records: this.records,
    };
    this.#data = new Uint8Array(Math.max(this.initialBytes, this.#used));
    this.#used = 0;
    this.setCount = 0;
    this.datagrams = 0;
    this.records = 0;
    this.#plans = new Map();
    this.#snaps = new Map();
    this.#exporters = new Map();
    return job;
  }
}

function index<K>(m: Map<K, number>, k: K): number {
  let i = m.get(k);
  if (i === undefined) {
    i = m.size;
    m.set(k, i);
  }
  return i;
}

function rateOf(snap: DomainSnap, sampler: number): number {
  if (sampler !== NO_SAMPLER) {
    const s = snap.samplers;
    for (let i = 0; i < s.length; i += 2) if (s[i] === sampler) return s[i + 1]!;
  }
  return snap.defaultRate;
}

/** Set context while decoding. */
interface Ctx {
  exportMs: number;
  uptimeMs: number;
  snap: DomainSnap;
  exporter: number;
  bytes: number;
  packets: number;
  rate: number;
}

function v5Records(b: FlowBatchBuilder, buf: Uint8Array, off: number, count: number, ctx: Ctx): void {
  const { exportMs, uptimeMs: uptime, snap } = ctx;
  const rate = snap.defaultRate;
  for (let i = 0; i < count; i++, off += V5_RECORD) {
    const r = b.count++;
    b.exporter[r] = ctx.exporter;
    b.version[r] = 5;
    b.domain[r] = snap.domain;
    put4(b.src, r, buf, off);
    put4(b.dst, r, buf, off + 4);
    put4(b.nextHop, r, buf, off + 8);
    b.inIf[r] = u16(buf, off + 12);
    b.outIf[r] = u16(buf, off + 14);
    const pkts = u32(buf, off + 16);
    const octets = u32(buf, off + 20);
    b.startMs[r] = exportMs - ((uptime - u32(buf, off + 24)) >>> 0);
    b.endMs[r] = exportMs - ((uptime - u32(buf, off + 28)) >>> 0);
    b.srcPort[r] = u16(buf, off + 32);
    b.dstPort[r] = u16(buf, off + 34);
    b.tcpFlags[r] = buf[off + 37]!;
    b.proto[r] = buf[off + 38]!;
    b.tos[r] = buf[off + 39]!;
    b.srcAs[r] = u16(buf, off + 40);
    b.dstAs[r] = u16(buf, off + 42);
    b.rawPackets[r] = pkts;
    b.rawBytes[r] = octets;
    b.packets[r] = pkts * rate;
    b.bytes[r] = octets * rate;
    b.samplingRate[r] = rate;
    ctx.bytes += octets * rate;
    ctx.packets += pkts * rate;
  }
  if (count > 0) ctx.rate = rate;
}

function uptimeToMs(uptime: number, ctx: Ctx): number {
  if (!Number.isNaN(ctx.uptimeMs)) return ctx.exportMs - ((ctx.uptimeMs - uptime) >>> 0);
  return Number.isNaN(ctx.snap.initMs) ? ctx.exportMs : ctx.snap.initMs + uptime;
}

const ntpMs = (buf: Uint8Array, off: number): number => (u32(buf, off) - NTP_EPOCH_S) * 1000 + Math.floor((u32(buf, off + 4) / 0x1_0000_0000) * 1000);

/** decodes one flow record (known to fit) into the next row; returns the offset after it */
function flowRecord(b: FlowBatchBuilder, plan: RecordPlan, buf: Uint8Array, off: number, end: number, ctx: Ctx): number {
  const r = b.count;
  const { ops, lengths } = plan;
  let bytes = -1;
  let packets = -1;
  let bytesAlt = -1;
  let packetsAlt = -1;
  let first = NaN;
  let last = NaN;
  let start = NaN;
  let stop = NaN;
  let sampler = NO_SAMPLER;
  let interval = 0;
  for (let i = 0; i < ops.length; i++) {
    let len = lengths[i]!;
    if (len === VARIABLE_LENGTH) {
      const v = varLength(buf, off, end);
      len = v >> 2;
      off += v & 3;
    }
    switch (ops[i]!) {
      case Op.SKIP: break;
      case Op.BYTES: bytes = uint(buf, off, len); break;
      case Op.PACKETS: packets = uint(buf, off, len); break;
      case Op.BYTES_TOTAL: case Op.BYTES_POST: if (bytesAlt < 0) bytesAlt = uint(buf, off, len); break;
      case Op.PACKETS_TOTAL: case Op.PACKETS_POST: if (packetsAlt < 0) packetsAlt = uint(buf, off, len); break;
      case Op.PROTO: b.proto[r] = uint(buf, off, len); break;
      case Op.TOS: b.tos[r] = uint(buf, off, len); break;
      case Op.TCP_FLAGS: b.tcpFlags[r] = uint(buf, off, len); break;
      case Op.SRC_PORT: b.srcPort[r] = uint(buf, off, len); break;
      case Op.DST_PORT: b.dstPort[r] = uint(buf, off, len); break;
      case Op.SRC4: put4(b.src, r, buf, off); break;
      case Op.DST4: put4(b.dst, r, buf, off); break;
      case Op.SRC6: put16(b.src, r, buf, off); break;
      case Op.DST6: put16(b.dst, r, buf, off); break;
      case Op.NEXT_HOP4: put4(b.nextHop, r, buf, off); break;
      case Op.NEXT_HOP6: put16(b.nextHop, r, buf, off); break;
      case Op.IN_IF: b.inIf[r] = uint(buf, off, len); break;
      case Op.OUT_IF: b.outIf[r] = uint(buf, off, len); break;
      case Op.SRC_AS: b.srcAs[r] = uint(buf, off, len); break;
      case Op.DST_AS: b.dstAs[r] = uint(buf, off, len); break;
      case Op.FIRST_UPTIME: first = uint(buf, off, len); break;
      case Op.LAST_UPTIME: last = uint(buf, off, len); break;
      case Op.START_SEC: start = uint(buf, off, len) * 1000; break;
      case Op.END_SEC: stop = uint(buf, off, len) * 1000; break;
      case Op.START_MS: start = uint(buf, off, len); break;
      case Op.END_MS: stop = uint(buf, off, len); break;
      case Op.START_NTP: start = ntpMs(buf, off); break;
      case Op.END_NTP: stop = ntpMs(buf, off); break;
      case Op.START_DELTA_US: start = ctx.exportMs - Math.floor(uint(buf, off, len) / 1000); break;
      case Op.END_DELTA_US: stop = ctx.exportMs - Math.floor(uint(buf, off, len) / 1000); break;
      case Op.SAMPLER_ID: sampler = uint(buf, off, len); break;
      case Op.SAMPLING_INTERVAL: interval = uint(buf, off, len); break;
      default: break;
    }
    off += len;
  }
  if (bytes < 0) bytes = bytesAlt < 0 ? 0 : bytesAlt;
  if (packets < 0) packets = packetsAlt < 0 ? 0 : packetsAlt;
  if (Number.isNaN(start) && !Number.isNaN(first)) start = uptimeToMs(first, ctx);
  if (Number.isNaN(stop) && !Number.isNaN(last)) stop = uptimeToMs(last, ctx);
  const rate = interval > 0 ? interval : rateOf(ctx.snap, sampler);
  b.exporter[r] = ctx.exporter;
  b.version[r] = ctx.snap.version;
  b.domain[r] = ctx.snap.domain;
  b.startMs[r] = Number.isNaN(start) ? ctx.exportMs : start;
  b.endMs[r] = Number.isNaN(stop) ? ctx.exportMs : stop;
  b.rawBytes[r] = bytes;
  b.rawPackets[r] = packets;
  b.bytes[r] = bytes * rate;
  b.packets[r] = packets * rate;
  b.samplingRate[r] = rate;
  b.count = r + 1;
  ctx.bytes += bytes * rate;
  ctx.packets += packets * rate;
  ctx.rate = rate;
  return off;
}

/**
 * A fixed-length plan laid out for decoding field by field: the fields that fill a column of
 * their own (COLUMN_OPS) as (op, offset in the record, length) triples in template order, and
 * for the values the record's row is computed from, the offset and length of the field that
 * wins (-1: none), as flowRecord picks it: the last of its kind, except the alternative
 * counters (total, post), of which the first counts and only without the direct one.
 */
interface FixedLayout {
  readonly stride: number;
  readonly columns: Int32Array;
  readonly bytes: number;
  readonly bytesLen: number;
  readonly packets: number;
  readonly packetsLen: number;
  /** START_* / END_* op of the winning field, its offset and length (op -1: none) */
  readonly start: readonly [number, number, number];
  readonly stop: readonly [number, number, number];
  readonly first: readonly [number, number];
  readonly last: readonly [number, number];
  readonly sampler: readonly [number, number];
  readonly interval: readonly [number, number];
}

const COLUMN_OPS = new Set<number>([
  Op.PROTO, Op.TOS, Op.TCP_FLAGS, Op.SRC_PORT, Op.DST_PORT, Op.SRC4, Op.DST4, Op.SRC6, Op.DST6, Op.NEXT_HOP4, Op.NEXT_HOP6,
  Op.IN_IF, Op.OUT_IF, Op.SRC_AS, Op.DST_AS,
]);

function layoutOf(plan: RecordPlan): FixedLayout | null {
  if (plan.fixedLength < 0) return null;
  const { ops, lengths } = plan;
  const columns: number[] = [];
  let bytes: [number, number] = [-1, 0];
  let bytesAlt: [number, number] = [-1, 0];
  let packets: [number, number] = [-1, 0];
  let packetsAlt: [number, number] = [-1, 0];
  let start: [number, number, number] = [-1, 0, 0];
  let stop: [number, number, number] = [-1, 0, 0];
  let first: [number, number] = [-1, 0];
  let last: [number, number] = [-1, 0];
  let sampler: [number, number] = [-1, 0];
  let interval: [number, number] = [-1, 0];
  for (let i = 0, off = 0; i < ops.length; off += lengths[i]!, i++) {
    const op = ops[i]!;
    const at: [number, number] = [off, lengths[i]!];
    if (COLUMN_OPS.has(op)) columns.push(op, off, lengths[i]!);
    else if (op === Op.BYTES) bytes = at;
    else if (op === Op.PACKETS) packets = at;
    else if ((op === Op.BYTES_TOTAL || op === Op.BYTES_POST) && bytesAlt[0] < 0) bytesAlt = at;
    else if ((op === Op.PACKETS_TOTAL || op === Op.PACKETS_POST) && packetsAlt[0] < 0) packetsAlt = at;
    else if (op === Op.START_SEC || op === Op.START_MS || op === Op.START_NTP || op === Op.START_DELTA_US) start = [op, off, lengths[i]!];
    else if (op === Op.END_SEC || op === Op.END_MS || op === Op.END_NTP || op === Op.END_DELTA_US) stop = [op, off, lengths[i]!];
    else if (op === Op.FIRST_UPTIME) first = at;
    else if (op === Op.LAST_UPTIME) last = at;
    else if (op === Op.SAMPLER_ID) sampler = at;
    else if (op === Op.SAMPLING_INTERVAL) interval = at;
  }
  if (bytes[0] < 0) bytes = bytesAlt;
  if (packets[0] < 0) packets = packetsAlt;
  return {
    stride: plan.fixedLength, columns: Int32Array.from(columns), bytes: bytes[0], bytesLen: bytes[1], packets: packets[0], packetsLen: packets[1],
    start, stop, first, last, sampler, interval,
  };
}

/** `n` values of `len` bytes, `stride` apart from buf[off], into col[r0..] */
function intoU8(col: Uint8Array, r0: number, n: number, buf: Uint8Array, off: number, stride: number, len: number): void {
  if (len === 1) for (let i = 0; i < n; i++, off += stride) col[r0 + i] = buf[off]!;
  else for (let i = 0; i < n; i++, off += stride) col[r0 + i] = uint(buf, off, len);
}

function intoU16(col: Uint16Array, r0: number, n: number, buf: Uint8Array, off: number, stride: number, len: number): void {
  if (len === 2) for (let i = 0; i < n; i++, off += stride) col[r0 + i] = u16(buf, off);
  else for (let i = 0; i < n; i++, off += stride) col[r0 + i] = uint(buf, off, len);
}

function intoU32(col: Uint32Array, r0: number, n: number, buf: Uint8Array, off: number, stride: number, len: number): void {
  if (len === 4) for (let i = 0; i < n; i++, off += stride) col[r0 + i] = u32(buf, off);
  else if (len === 2) for (let i = 0; i < n; i++, off += stride) col[r0 + i] = u16(buf, off);
  else for (let i = 0; i < n; i++, off += stride) col[r0 + i] = uint(buf, off, len);
}

function into4(col: Uint8Array, r0: number, n: number, buf: Uint8Array, off: number, stride: number): void {
  for (let i = 0; i < n; i++, off += stride) put4(col, r0 + i, buf, off);
}

function into16(col: Uint8Array, r0: number, n: number, buf: Uint8Array, off: number, stride: number): void {
  for (let i = 0; i < n; i++, off += stride) put16(col, r0 + i, buf, off);
}

/** a START_* / END_* field's time, Unix ms */
function timeOf(op: number, buf: Uint8Array, off: number, len: number, exportMs: number): number {
  switch (op) {
    case Op.START_SEC: case Op.END_SEC: return uint(buf, off, len) * 1000;
    case Op.START_MS: case Op.END_MS: return uint(buf, off, len);
    case Op.START_NTP: case Op.END_NTP: return ntpMs(buf, off);
    default: return exportMs - Math.floor(uint(buf, off, len) / 1000);
  }
}

/**
 * The `n` records of a fixed-length plan at buf[off..] (known to fit) into the next rows, field
 * by field: one loop over the records per column instead of a switch per field and record; the
 * rows are those flowRecord gives.
 */
function fixedRecords(b: FlowBatchBuilder, l: FixedLayout, buf: Uint8Array, off: number, n: number, ctx: Ctx): void {
  const r0 = b.count;
  const { stride, columns } = l;
  for (let c = 0; c < columns.length; c += 3) {
    const at = off + columns[c + 1]!;
    const len = columns[c + 2]!;
    switch (columns[c]!) {
      case Op.PROTO: intoU8(b.proto, r0, n, buf, at, stride, len); break;
      case Op.TOS: intoU8(b.tos, r0, n, buf, at, stride, len); break;
      case Op.TCP_FLAGS: intoU8(b.tcpFlags, r0, n, buf, at, stride, len); break;
      case Op.SRC_PORT: intoU16(b.srcPort, r0, n, buf, at, stride, len); break;
      case Op.DST_PORT: intoU16(b.dstPort, r0, n, buf, at, stride, len); break;
      case Op.SRC4: into4(b.src, r0, n, buf, at, stride); break;
      case Op.DST4: into4(b.dst, r0, n, buf, at, stride); break;
      case Op.SRC6: into16(b.src, r0, n, buf, at, stride); break;
      case Op.DST6: into16(b.dst, r0, n, buf, at, stride); break;
      case Op.NEXT_HOP4: into4(b.nextHop, r0, n, buf, at, stride); break;
      case Op.NEXT_HOP6: into16(b.nextHop, r0, n, buf, at, stride); break;
      case Op.IN_IF: intoU32(b.inIf, r0, n, buf, at, stride, len); break;
      case Op.OUT_IF: intoU32(b.outIf, r0, n, buf, at, stride, len); break;
      case Op.SRC_AS: intoU32(b.srcAs, r0, n, buf, at, stride, len); break;
      default: intoU32(b.dstAs, r0, n, buf, at, stride, len); break;
    }
  }
  const { exportMs, snap } = ctx;
  const [startOp, startOff, startLen] = l.start;
  const [stopOp, stopOff, stopLen] = l.stop;
  const [firstOff, firstLen] = l.first;
  const [lastOff, lastLen] = l.last;
  const [samplerOff, samplerLen] = l.sampler;
  const [intervalOff, intervalLen] = l.interval;
  /** the rate when no record says otherwise */
  const setRate = rateOf(snap, NO_SAMPLER);
  let bytesSum = 0;
  let packetsSum = 0;
  let rate = 0;
  for (let i = 0; i < n; i++, off += stride) {
    const r = r0 + i;
    const bytes = l.bytes < 0 ? 0 : uint(buf, off + l.bytes, l.bytesLen);
    const packets = l.packets < 0 ? 0 : uint(buf, off + l.packets, l.packetsLen);
    let start = startOp >= 0 ? timeOf(startOp, buf, off + startOff, startLen, exportMs) : exportMs;
    if (startOp < 0 && firstOff >= 0) start = uptimeToMs(uint(buf, off + firstOff, firstLen), ctx);
    let stop = stopOp >= 0 ? timeOf(stopOp, buf, off + stopOff, stopLen, exportMs) : exportMs;
    if (stopOp < 0 && lastOff >= 0) stop = uptimeToMs(uint(buf, off + lastOff, lastLen), ctx);
    const interval = intervalOff < 0 ? 0 : uint(buf, off + intervalOff, intervalLen);
    rate = interval > 0 ? interval : samplerOff < 0 ? setRate : rateOf(snap, uint(buf, off + samplerOff, samplerLen));
    b.exporter[r] = ctx.exporter;
    b.version[r] = snap.version;
    b.domain[r] = snap.domain;
    b.startMs[r] = start;
    b.endMs[r] = stop;
    b.rawBytes[r] = bytes;
    b.rawPackets[r] = packets;
    b.bytes[r] = bytes * rate;
    b.packets[r] = packets * rate;
    b.samplingRate[r] = rate;
    bytesSum += bytes * rate;
    packetsSum += packets * rate;
  }
  b.count = r0 + n;
  ctx.bytes += bytesSum;
  ctx.packets += packetsSum;
  if (n > 0) ctx.rate = rate;
}

/** Decodes every set of the job into rows (never throws on any bytes): the batch, the per-exporter tallies and the small keys tallied. */
export function decodeDataJob(job: DataJob): DataJobResult {
  const b = new FlowBatchBuilder(Math.max(16, job.records), job.spare ?? null);
  for (const e of job.exporters) b.exporterIndex(e);
  const tallies = new Float64Array(job.exporters.length * TALLY_FIELDS);
  const { data, sets } = job;
  let errors = 0;
  const ctx: Ctx = { exportMs: 0, uptimeMs: NaN, snap: job.snaps[0]!, exporter: 0, bytes: 0, packets: 0, rate: 0 };
  const layouts = job.plans.map(layoutOf);
  for (let s = 0; s < job.setCount; s++) {
    const o = s * SET_FIELDS;
    const planIdx = sets[o + SetField.PLAN]!;
    const start = sets[o + SetField.START]!;
    const end = sets[o + SetField.END]!;
    const records = sets[o + SetField.RECORDS]!;
    ctx.snap = job.snaps[sets[o + SetField.SNAP]!]!;
    ctx.exporter = sets[o + SetField.EXPORTER]!;
    ctx.exportMs = sets[o + SetField.EXPORT_MS]!;
    ctx.uptimeMs = sets[o + SetField.UPTIME_MS]!;
    ctx.bytes = 0;
    ctx.packets = 0;
    ctx.rate = 0;
    const row = b.count;
    b.ensure(records);
    if (planIdx === V5_PLAN) {
      if (end - start < records * V5_RECORD) {
        errors++;
        continue;
      }
      v5Records(b, data, start, records, ctx);
    } else {
      const plan = job.plans[planIdx]!;
      if (countRecords(plan, data, start, end) !== records) {
        errors++;
        continue;
      }
      const layout = layouts[planIdx]!;
      if (layout !== null) fixedRecords(b, layout, data, start, records, ctx);
      else for (let off = start, i = 0; i < records; i++) off = flowRecord(b, plan, data, off, end, ctx);
    }
    const t = ctx.exporter * TALLY_FIELDS;
    tallies[t]! += b.count - row;
    tallies[t + 1]! += ctx.bytes;
    tallies[t + 2]! += ctx.packets;
    if (ctx.rate > 0) tallies[t + 3] = ctx.rate;
  }
  const batch = b.finish();
  return { batch, tallies, errors, keys: tallySmallKeys(batch) };
}
