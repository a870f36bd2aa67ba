/**
 * A probe type, in one module: how it turns (target, group, address) into something the engine
 * can send, how its packets and answers look on the wire (capture clause, frame codec, matcher),
 * and the name and shape of its metrics. One file per probe type; the registry is probes/index.ts.
 */
import type { GroupConfig, TargetConfig } from '../config/types.js';
import type { Engine } from '../net/engine.js';
import type { EngineProbeType } from '../net/probe-types.js';
import type { Family, OutcomeSink, RouteInfo } from '../net/types.js';
import type { PacketAlloc } from '../packet/pool.js';
import type { FrameCodec } from '../packet/probe-frame.js';
import type { Rotation } from './rotation.js';

export interface PrepareInput {
  readonly target: TargetConfig;
  readonly group: GroupConfig;
  /** canonical destination address */
  readonly address: string;
  readonly family: Family;
  readonly route: RouteInfo;
  /** capture index on the route's interface */
  readonly capture: number;
  /** the type's number in the registry (WireProbe.kind) */
  readonly kind: number;
  /** the round robins of the (target, group), shared by the probes of all its addresses */
  readonly rotation: Rotation;
  /** where packet templates take their bytes (the target manager's slabs) */
  readonly alloc: PacketAlloc;
}

export interface PreparedProbe {
  /** sends one probe; its outcome reaches `sink` with `index` */
  send(engine: Engine, sink: OutcomeSink, index: number): void;
}

/** What the metric catalog needs to know of a probe type: its per-target families' names and shape. */
export interface ProbeMetricsInput {
  readonly prefix: string;
  readonly human: string;
  readonly icmpErrors: boolean;
  /** diagnostic counts of answers matching no probe, by the matcher's reason */
  readonly unmatched: readonly { readonly what: string; readonly name: string; readonly help: string }[];
}

export interface ProbeKind extends EngineProbeType {
  /** its per-target metric families: name prefix, help wording, ICMP-error and diagnostic counts */
  readonly metrics: ProbeMetricsInput;
  /**
   * Whether its probes use the groups' source-port range (src_port_a .. src_port_z) and need a
   * dst_port: its capture clause follows the ranges of the groups its targets belong to.
   */
  readonly usesPorts: boolean;
  /** how captured frames of the type decode (runs in the worker threads) */
  readonly frames: FrameCodec;
  /**
   * Throws AppError with a precise message when the combination cannot be probed. The prepared
   * probe keeps none of `input` but `rotation` (its target's config objects are not retained).
   */
  prepare(input: PrepareInput): PreparedProbe;
}
