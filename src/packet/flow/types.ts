/**
 * The decoded form of NetFlow v5, v9 and IPFIX flow records, shared by the decoder (packet/flow),
 * the collector (flows/) and the flow stores. Columnar, so a batch crosses threads as a few
 * transferable buffers instead of one object per flow.
 */

/** Bytes per address column entry: IPv6, with IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
export const FLOW_ADDRESS_BYTES = 16;

/** NetFlow version as in the datagram header: 5, 9, or 10 (IPFIX). */
export type FlowVersion = 5 | 9 | 10;

/**
 * `count` flow records; row i of every column describes flow i. Addresses occupy
 * FLOW_ADDRESS_BYTES bytes per row (all zero: absent). Counters are scaled by the sampling
 * interval in force for the record's sampler; the raw columns keep the exported values.
 */
export interface FlowBatch {
  readonly count: number;
  /** exporter addresses (text) referenced by `exporter` */
  readonly exporters: readonly string[];
  /** index into `exporters` */
  readonly exporter: Uint16Array;
  readonly version: Uint8Array;
  /** v9 source id / IPFIX observation domain id; v5: engine_type << 8 | engine_id */
  readonly domain: Uint32Array;
  /** flow start and end, Unix milliseconds (export time when the record has none) */
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly nextHop: Uint8Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly proto: Uint8Array;
  readonly tcpFlags: Uint8Array;
  readonly tos: Uint8Array;
  readonly inIf: Uint32Array;
  readonly outIf: Uint32Array;
  readonly srcAs: Uint32Array;
  readonly dstAs: Uint32Array;
  /** scaled by samplingRate */
  readonly bytes: Float64Array;
  readonly packets: Float64Array;
  /** as exported */
  readonly rawBytes: Float64Array;
  readonly rawPackets: Float64Array;
  /** 1 when unsampled */
  readonly samplingRate: Uint32Array;
}
