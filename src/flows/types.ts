/**
 * What the flow collector (flows/) asks of a flow store, and the query the API and the CLI run on
 * one. The SQLite store and the PostgreSQL sink both implement FlowSink; the store answers queries.
 */
import type { FlowBatch } from '../packet/flow/types.js';

export interface FlowSinkStats {
  /** rows written since start */
  readonly written: number;
  /** rows refused because the queue was full (the sink never blocks the collector) */
  readonly dropped: number;
  /** rows deleted by retention since start */
  readonly expired: number;
  /** rows waiting to be written */
  readonly queued: number;
  /** bytes the store occupies now (database file, or relation sizes) */
  readonly sizeBytes: number;
}

export interface FlowSink {
  readonly name: string;
  /**
   * queues a batch and returns at once: inserts happen off the collector's hot path, in batches.
   * The batch is the caller's again once write returns (the collector decodes the next rows into
   * its buffer): a sink keeps rows by copying them or by transferring the buffer away.
   */
  write(batch: FlowBatch): void;
  /** resolves once everything queued before the call is stored, or rejects after timeoutMs */
  flush(timeoutMs: number): Promise<void>;
  close(timeoutMs: number): Promise<void>;
  stats(): FlowSinkStats;
  /**
   * a buffer of a batch this sink took by transfer and is done with, to decode a later batch
   * into (the collector would otherwise allocate a new one per batch); undefined: none
   */
  takeSpare?(): ArrayBuffer | undefined;
}

/** Keys flows are grouped by, in the top-N metrics, the query API and the CLI. */
export type FlowGroupKey = 'src' | 'dst' | 'conversation' | 'proto' | 'src_port' | 'dst_port' | 'exporter' | 'in_if' | 'out_if';

export interface FlowFilter {
  /** addresses or CIDRs; a flow matches when its source (src), destination (dst) or either (addr) is in one */
  readonly src?: readonly string[];
  readonly dst?: readonly string[];
  readonly addr?: readonly string[];
  readonly srcPort?: readonly number[];
  readonly dstPort?: readonly number[];
  /** either port */
  readonly port?: readonly number[];
  readonly proto?: readonly number[];
  readonly exporter?: readonly string[];
  readonly inIf?: readonly number[];
  readonly outIf?: readonly number[];
}

export interface FlowQuerySpec {
  /** flows whose end is in [fromMs, toMs) */
  readonly fromMs: number;
  readonly toMs: number;
  readonly filter: FlowFilter;
  /** absent: the flows themselves, newest first */
  readonly groupBy?: FlowGroupKey;
  readonly orderBy: 'bytes' | 'packets' | 'flows';
  readonly limit: number;
}

/** One group (with groupBy) or one flow (without); addresses as text. */
export interface FlowQueryRow {
  readonly key: Readonly<Record<string, string | number>>;
  readonly flows: number;
  readonly bytes: number;
  readonly packets: number;
}

export interface FlowQueryResult {
  readonly rows: readonly FlowQueryRow[];
  /** totals over every flow matching the filter, so `others` = totals - sum(rows) */
  readonly totals: { readonly flows: number; readonly bytes: number; readonly packets: number };
}

export interface FlowQueryable {
  query(spec: FlowQuerySpec, timeoutMs: number): Promise<FlowQueryResult>;
}
