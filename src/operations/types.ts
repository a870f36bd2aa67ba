/**
 * On-demand operations (ping, traceroute, mtr) run through the probe engine: what is asked,
 * what streams back, and the runner the API, the CLI, the status page and the fleet share.
 * Events are plain JSON-able data: they go to SSE streams, to `--json` output and over NATS.
 */

export type OperationKind = 'ping' | 'traceroute' | 'mtr';
export type OperationProtocol = 'icmp' | 'tcp' | 'udp';

interface SpecBase {
  /** an IPv4 or IPv6 literal, or a name resolved once (bounded) before the operation starts */
  readonly destination: string;
  readonly protocol: OperationProtocol;
  /** 4 or 6 forces the family of a name's address; absent: the first address */
  readonly family?: 4 | 6;
  /** destination port for tcp/udp (tcp default 80, udp default 33434) */
  readonly port?: number;
  /** IP payload bytes beyond the protocol header */
  readonly size: number;
  readonly dscp: number;
  /** source address; absent: the route's */
  readonly source?: string;
  /** seconds to wait for each answer */
  readonly timeout: number;
}

export interface PingSpec extends SpecBase {
  readonly kind: 'ping';
  readonly count: number;
  /** seconds between probes */
  readonly interval: number;
}

export interface TracerouteSpec extends SpecBase {
  readonly kind: 'traceroute';
  readonly maxHops: number;
  /** probes per hop */
  readonly queries: number;
  /** distinct flow identifiers tried (ECMP path enumeration); 1 = one Paris-traceroute path */
  readonly paths: number;
  /** reverse DNS of hops (asynchronous, bounded) */
  readonly resolve: boolean;
  /** AS number of hops, when an AS source is configured */
  readonly asn: boolean;
}

export interface MtrSpec extends SpecBase {
  readonly kind: 'mtr';
  readonly maxHops: number;
  /** rounds over every hop */
  readonly cycles: number;
  /** seconds between rounds */
  readonly interval: number;
  readonly resolve: boolean;
  readonly asn: boolean;
}

export type OperationSpec = PingSpec | TracerouteSpec | MtrSpec;

/** One probe's outcome; rttMs from kernel capture timestamps, null when unanswered. */
export interface ProbeReply {
  readonly seq: number;
  /** responder address; null when unanswered */
  readonly from: string | null;
  readonly rttMs: number | null;
  /** 'reply' (echo reply, SYN-ACK/RST, port unreachable from the destination), 'time-exceeded', 'unreachable', 'timeout' */
  readonly kind: 'reply' | 'time-exceeded' | 'unreachable' | 'timeout';
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** TTL the probe was sent with (traceroute, mtr) */
  readonly ttl?: number;
  /** flow identifier index (traceroute --paths) */
  readonly path?: number;
}

export interface HopStats {
  readonly ttl: number;
  /** responders seen at this TTL (more than one on a load-balanced hop) */
  readonly addresses: readonly string[];
  readonly names: Readonly<Record<string, string>>;
  readonly asns: Readonly<Record<string, number>>;
  readonly sent: number;
  readonly received: number;
  /** 0..1 */
  readonly loss: number;
  readonly lastMs: number | null;
  readonly avgMs: number | null;
  readonly bestMs: number | null;
  readonly worstMs: number | null;
  readonly stddevMs: number | null;
}

export type OperationEvent =
  | { readonly type: 'start'; readonly spec: OperationSpec; readonly address: string }
  | { readonly type: 'probe'; readonly reply: ProbeReply }
  /** a hop's current statistics (traceroute: once per hop; mtr: after each cycle) */
  | { readonly type: 'hop'; readonly path: number; readonly hop: HopStats }
  /** a hop's name or ASN found after its hop event */
  | { readonly type: 'annotate'; readonly address: string; readonly name?: string; readonly asn?: number }
  | { readonly type: 'done'; readonly result: OperationResult }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

export interface OperationResult {
  readonly kind: OperationKind;
  readonly destination: string;
  /** the address probed */
  readonly address: string;
  /** the destination answered (ping: at least one reply; traceroute/mtr: the last hop is the destination) */
  readonly reached: boolean;
  readonly sent: number;
  readonly received: number;
  /** ping: per-destination statistics as one hop; traceroute: per path, its hops in TTL order; mtr: one path */
  readonly paths: readonly (readonly HopStats[])[];
  readonly startedMs: number;
  readonly endedMs: number;
}

export interface OperationRunner {
  /**
   * Runs one operation through the engine, streaming events; resolves with the result (also sent
   * as the `done` event). Aborting the signal ends it early with what was gathered. Rejects with a
   * coded error for a spec the runner refuses (no route, no address of the family, ...).
   */
  run(spec: OperationSpec, onEvent: (e: OperationEvent) => void, signal: AbortSignal): Promise<OperationResult>;
}
