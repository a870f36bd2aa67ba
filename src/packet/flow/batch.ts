/**
 * A growable columnar FlowBatch under construction: decoding (data-job.ts) writes fields of row
 * `count` straight into the columns (fresh columns are zero, so an absent field stays 0), and
 * `finish()` hands the rows over as a FlowBatch of views of the columns, which can then be
 * transferred between threads. Pure.
 */
import { FLOW_ADDRESS_BYTES, type FlowBatch } from './types.js';

const A = FLOW_ADDRESS_BYTES;

export class FlowBatchBuilder {
  count = 0;
  capacity: number;
  exporters: string[] = [];
  #exporterIndex = new Map<string, number>();
  exporter!: Uint16Array;
  version!: Uint8Array;
  domain!: Uint32Array;
  startMs!: Float64Array;
  endMs!: Float64Array;
  src!: Uint8Array;
  dst!: Uint8Array;
  nextHop!: Uint8Array;
  srcPort!: Uint16Array;
  dstPort!: Uint16Array;
  proto!: Uint8Array;
  tcpFlags!: Uint8Array;
  tos!: Uint8Array;
  inIf!: Uint32Array;
  outIf!: Uint32Array;
  srcAs!: Uint32Array;
  dstAs!: Uint32Array;
  bytes!: Float64Array;
  packets!: Float64Array;
  rawBytes!: Float64Array;
  rawPackets!: Float64Array;
  samplingRate!: Uint32Array;

  constructor(readonly initialCapacity = 4096) {
    this.capacity = initialCapacity;
    this.#alloc(initialCapacity, false);
  }

  /** fresh columns of `capacity` rows; `keep`: holding the current rows */
  #alloc(capacity: number, keep: boolean): void {
    const grow = <T extends { set(a: T): void }>(make: (n: number) => T, old: T | undefined, width = 1): T => {
      const col = make(capacity * width);
      if (keep && old !== undefined) col.set(old);
      return col;
    };
    this.exporter = grow((n) => new Uint16Array(n), this.exporter);
    this.version = grow((n) => new Uint8Array(n), this.version);
    this.domain = grow((n) => new Uint32Array(n), this.domain);
    this.startMs = grow((n) => new Float64Array(n), this.startMs);
    this.endMs = grow((n) => new Float64Array(n), this.endMs);
    this.src = grow((n) => new Uint8Array(n), this.src, A);
    this.dst = grow((n) => new Uint8Array(n), this.dst, A);
    this.nextHop = grow((n) => new Uint8Array(n), this.nextHop, A);
    this.srcPort = grow((n) => new Uint16Array(n), this.srcPort);
    this.dstPort = grow((n) => new Uint16Array(n), this.dstPort);
    this.proto = grow((n) => new Uint8Array(n), this.proto);
    this.tcpFlags = grow((n) => new Uint8Array(n), this.tcpFlags);
    this.tos = grow((n) => new Uint8Array(n), this.tos);
    this.inIf = grow((n) => new Uint32Array(n), this.inIf);
    this.outIf = grow((n) => new Uint32Array(n), this.outIf);
    this.srcAs = grow((n) => new Uint32Array(n), this.srcAs);
    this.dstAs = grow((n) => new Uint32Array(n), this.dstAs);
    this.bytes = grow((n) => new Float64Array(n), this.bytes);
    this.packets = grow((n) => new Float64Array(n), this.packets);
    this.rawBytes = grow((n) => new Float64Array(n), this.rawBytes);
    this.rawPackets = grow((n) => new Float64Array(n), this.rawPackets);
    this.samplingRate = grow((n) => new Uint32Array(n), this.samplingRate);
  }

  /** makes room for `n` more rows */
  ensure(n: number): void {
    if (this.count + n <= this.capacity) return;
    let cap = this.capacity * 2;
    while (cap < this.count + n) cap *= 2;
    this.capacity = cap;
    this.#alloc(cap, true);
  }

  /** the index of an exporter address in this batch's `exporters` */
  exporterIndex(address: string): number {
    let i = this.#exporterIndex.get(address);
    if (i === undefined) {
      i = this.exporters.length;
      this.exporters.push(address);
      this.#exporterIndex.set(address, i);
    }
    return i;
  }

  /** the rows as a FlowBatch of views of the builder's columns (no copy): the builder must not be used after */
  finish(): FlowBatch {
    const n = this.count;
    const view = <T extends { subarray(a: number, b: number): T }>(col: T, width = 1): T => col.subarray(0, n * width);
    return {
      count: n,
      exporters: this.exporters,
      exporter: view(this.exporter),
      version: view(this.version),
      domain: view(this.domain),
      startMs: view(this.startMs),
      endMs: view(this.endMs),
      src: view(this.src, A),
      dst: view(this.dst, A),
      nextHop: view(this.nextHop, A),
      srcPort: view(this.srcPort),
      dstPort: view(this.dstPort),
      proto: view(this.proto),
      tcpFlags: view(this.tcpFlags),
      tos: view(this.tos),
      inIf: view(this.inIf),
      outIf: view(this.outIf),
      srcAs: view(this.srcAs),
      dstAs: view(this.dstAs),
      bytes: view(this.bytes),
      packets: view(this.packets),
      rawBytes: view(this.rawBytes),
      rawPackets: view(this.rawPackets),
      samplingRate: view(this.samplingRate),
    };
  }
}

/**
 * The distinct transferable buffers under a batch's columns (for a transfer list): each
 * ArrayBuffer once; a SharedArrayBuffer or an empty buffer is left out (shared as it is).
 */
export function flowBatchBuffers(b: FlowBatch): ArrayBuffer[] {
  const cols = [b.exporter, b.version, b.domain, b.startMs, b.endMs, b.src, b.dst, b.nextHop, b.srcPort, b.dstPort, b.proto, b.tcpFlags, b.tos,
    b.inIf, b.outIf, b.srcAs, b.dstAs, b.bytes, b.packets, b.rawBytes, b.rawPackets, b.samplingRate];
  const out = new Set<ArrayBuffer>();
  for (const c of cols) if (c.buffer instanceof ArrayBuffer && c.buffer.byteLength > 0) out.add(c.buffer);
  return [...out];
}
