/**
 * A probe type turns (target, group, address) into something the engine can send, and sends
 * packet number k of a round. One file per probe type; the registry is probes/index.ts.
 */
import type { GroupConfig, ProbeType, TargetConfig } from '../config/types.js';
import type { Engine } from '../net/engine.js';
import type { Family, OutcomeSink, RouteInfo } from '../net/types.js';
import type { SourcePool } from './source-pool.js';

/** the Catalog key of the type's metric families */
export type MetricPrefix = 'icmp' | 'tcpsyn' | 'udp_unreachable';

export interface PrepareInput {
  readonly target: TargetConfig;
  readonly group: GroupConfig;
  /** canonical destination address */
  readonly address: string;
  readonly family: Family;
  readonly route: RouteInfo;
  /** capture index on the route's interface */
  readonly capture: number;
  /**
   * Shared by every address of one (target, group): the source-port round robin position. It
   * carries over from round to round, so the whole port range is used over time.
   */
  readonly portCursor: { n: number };
  /** the group's source subnet round robin for this family (overrides src_ipv4/6), or null */
  readonly sources: SourcePool | null;
  /** like portCursor, for the source round robin */
  readonly sourceCursor: { n: number };
}

export interface PreparedProbe {
  /** sends one probe; its outcome reaches `sink` with `index` */
  send(engine: Engine, sink: OutcomeSink, index: number): void;
}

export interface ProbeKind {
  readonly type: ProbeType;
  /** metric name prefix of this type (netprobify: icmp, tcpsyn, udp_unreachable) */
  readonly metricPrefix: MetricPrefix;
  /** throws AppError with a precise message when the combination cannot be probed */
  prepare(input: PrepareInput): PreparedProbe;
}
