/**
 * A growable columnar FlowBatch under construction: the decoder writes fields of row `count`
 * straight into the columns (fresh columns are zero, so an absent field stays 0), and `take()`
 * hands the rows over as a FlowBatch of exactly sized copies and zeroes the rows. Pure.
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

  /** drops rows from `n` on (zeroing them, as fresh rows must be) */
  truncate(n: number): void {
    if (n >= this.count) return;
    const c = this.count;
    for (const col of [this.exporter, this.version, this.domain, this.startMs, this.endMs, this.srcPort, this.dstPort, this.proto,
      this.tcpFlags, this.tos, this.inIf, this.outIf, this.srcAs, this.dstAs, this.bytes, this.packets, this.rawBytes, this.rawPackets,
      this.samplingRate]) col.fill(0, n, c);
    for (const col of [this.src, this.dst, this.nextHop]) col.fill(0, n * A, c * A);
    this.count = n;
  }

  /** the rows so far as a FlowBatch (copies, exactly sized: the builder keeps its columns) and starts over */
  take(): FlowBatch {
    const n = this.count;
    const batch: FlowBatch = {
      count: n,
      exporters: this.exporters,
      exporter: this.exporter.slice(0, n),
      version: this.version.slice(0, n),
      domain: this.domain.slice(0, n),
      startMs: this.startMs.slice(0, n),
      endMs: this.endMs.slice(0, n),
      src: this.src.slice(0, n * A),
      dst: this.dst.slice(0, n * A),
      nextHop: this.nextHop.slice(0, n * A),
      srcPort: this.srcPort.slice(0, n),
      dstPort: this.dstPort.slice(0, n),
      proto: this.proto.slice(0, n),
      tcpFlags: this.tcpFlags.slice(0, n),
      tos: this.tos.slice(0, n),
      inIf: this.inIf.slice(0, n),
      outIf: this.outIf.slice(0, n),
      srcAs: this.srcAs.slice(0, n),
      dstAs: this.dstAs.slice(0, n),
      bytes: this.bytes.slice(0, n),
      packets: this.packets.slice(0, n),
      rawBytes: this.rawBytes.slice(0, n),
      rawPackets: this.rawPackets.slice(0, n),
      samplingRate: this.samplingRate.slice(0, n),
    };
    this.truncate(0);
    this.exporters = [];
    this.#exporterIndex = new Map();
    return batch;
  }
}
