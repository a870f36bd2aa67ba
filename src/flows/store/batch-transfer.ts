/**
 * Moving a FlowBatch to a database worker: its columns' buffers are transferred, not copied
 * (flowBatchBuffers in packet/flow/batch.ts lists them). After the transfer
 * the caller's columns are detached, so a collector writing one batch to two sinks that
 * transfer gives each its own copy (copyFlowBatch).
 */
import type { FlowBatch } from '../../packet/flow/types.js';

/** A deep copy whose columns own their buffers. */
export function copyFlowBatch(batch: FlowBatch): FlowBatch {
  return {
    count: batch.count,
    exporters: [...batch.exporters],
    exporter: batch.exporter.slice(),
    version: batch.version.slice(),
    domain: batch.domain.slice(),
    startMs: batch.startMs.slice(),
    endMs: batch.endMs.slice(),
    src: batch.src.slice(),
    dst: batch.dst.slice(),
    nextHop: batch.nextHop.slice(),
    srcPort: batch.srcPort.slice(),
    dstPort: batch.dstPort.slice(),
    proto: batch.proto.slice(),
    tcpFlags: batch.tcpFlags.slice(),
    tos: batch.tos.slice(),
    inIf: batch.inIf.slice(),
    outIf: batch.outIf.slice(),
    srcAs: batch.srcAs.slice(),
    dstAs: batch.dstAs.slice(),
    bytes: batch.bytes.slice(),
    packets: batch.packets.slice(),
    rawBytes: batch.rawBytes.slice(),
    rawPackets: batch.rawPackets.slice(),
    samplingRate: batch.samplingRate.slice(),
  };
}
