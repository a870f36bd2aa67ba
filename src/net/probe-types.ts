/**
 * The engine's side of a probe type: what a prepared probe hands the engine (its packet, where
 * it goes, which capture sees it, its timeout) and how the type names its probes on the wire and
 * matches captured frames to them. The types themselves live in src/probes/, one module each.
 */
import type { DecodedBatch } from '../packet/probe-frame.js';
import type { Family, Outcome } from './types.js';

/** What every probe tells the engine besides its packet. */
export interface ProbeBase {
  readonly family: Family;
  /** canonical destination address */
  readonly dst: string;
  /** addrHash of the destination bytes */
  readonly peerHash: number;
  /** index returned by Engine.captureFor() */
  readonly capture: number;
  readonly timeoutMs: number;
}

/** A probe ready to be sent: its type's number and its packet. */
export interface WireProbe extends ProbeBase {
  /** the probe type's number: its position in the engine's list of types (EngineDeps.probes) */
  readonly kind: number;
  /** IP protocol of the packet (the raw socket's) */
  readonly protocol: number;
  /** a Buffer view of the packet template, made once */
  readonly wire: Buffer;
  /** bytes of `wire` to send */
  readonly length: number;
}

/** What a probe type's capture clause is built from. */
export interface FilterInput {
  /** the engine's ICMP identifier block start (multiple of 16) */
  readonly idBase: number;
  /** our source-port ranges in use by the type (empty when no target uses it) */
  readonly ports: readonly (readonly [number, number])[];
}

/** The engine's counters; the engine and the probe types' matchers bump them. */
export interface EngineCounters {
  sent: number;
  sendErrors: number;
  matched: number;
  late: number;
  duplicates: number;
  unmatched: number;
  txNotCaptured: number;
  icmpErrors: number;
  rstSent: number;
  slotsExhausted: number;
  decodeErrors: number;
  /** answers, within their timeout, captured after their probe was counted lost (false loss) */
  answeredAfterLoss: number;
  /** probes settled as indeterminate because their capture had not handed over every frame in time */
  captureBehind: number;
}

/** What a probe type's matcher gets from the engine, once. */
export interface MatchContext {
  /** number of slots: slot numbers are 0 .. capacity − 1 */
  readonly capacity: number;
  /** ICMP identifier block start (multiple of 16); random per process */
  readonly idBase: number;
  /** base of TCP sequence numbers; random per process */
  readonly seqBase: number;
  readonly counters: EngineCounters;
  /** sends a packet of the type's own (a TCP RST, …); false (logged) when the kernel refused it */
  transmit(family: Family, protocol: number, packet: Buffer, length: number, dst: string): boolean;
  /** an answer from a probed address that matches none of our probes, by the type's own reason */
  unmatched(what: string, peerHash: number): void;
}

/**
 * How one probe type names its probes on the wire and finds them again in captured frames. The
 * engine owns the slots (one per probe in flight, its number the probe's identity) and the
 * outcome; a matcher keeps what else its type needs per slot. Runs in the main thread, on the
 * hot path: no allocation per probe or per frame.
 */
export interface ProbeMatcher<P extends WireProbe = WireProbe> {
  /**
   * Writes slot `s`'s identity into the probe's packet and remembers what matching needs;
   * false when the type has no identity left for it (the probe is then a send error).
   */
  bind(s: number, probe: P): boolean;
  /** the slot frame `i` (of this type, in `role`) is about, or −1 */
  slotOf(b: DecodedBatch, i: number, role: number): number;
  /** beyond type and peer: whether frame `i` belongs to the probe in slot `s` (ports, …) */
  owns(s: number, b: DecodedBatch, i: number): boolean;
  /** what answer frame `i` (REPLY or ERROR) means for the pending probe in slot `s` */
  answer(s: number, b: DecodedBatch, i: number, role: number): Outcome;
  /**
   * a frame of this type that matched no probe; `known`: slot `s` is in flight to that peer
   * (the frame differs from its probe in something else)
   */
  unmatched(b: DecodedBatch, i: number, role: number, known: boolean): void;
  /** slot `s` is free again: forget what bind() remembered */
  release(s: number): void;
}

/** A probe type as the engine sees it. */
export interface EngineProbeType {
  /** the config's name of the type */
  readonly type: string;
  /** the type's BPF clause (libpcap syntax), or null when it has nothing to capture */
  filter(f: FilterInput): string | null;
  createMatcher(ctx: MatchContext): ProbeMatcher;
}
