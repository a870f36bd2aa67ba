/**
 * The seam between probe logic and native packet I/O. Everything behind these interfaces
 * (raw-socket, pcap) lives in the main thread; see DEVELOPERS.md "A hard fact about the
 * native packages". Swapping the implementation (for example moving the engine into a child
 * process) only has to honour these types.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { DecodedBatch } from '../packet/probe-frame.js';

export type Family = 4 | 6;

/** Sends complete IP packets (IP header included) through shared raw sockets. */
export interface RawSender {
  /**
   * Synchronous send; throws AppError NET_ERR_SEND on a socket error (EMSGSIZE, ENOBUFS, …).
   * `packet` is a Buffer so the native binding can use it without a conversion per send.
   */
  send(family: Family, protocol: number, packet: Buffer, length: number, dst: string): void;
  close(): void;
}

export interface CaptureStats {
  /** packets the kernel delivered to the capture */
  received: number;
  /** packets dropped by the kernel because the capture buffer was full */
  dropped: number;
  /** packets dropped by the interface/driver */
  ifDropped: number;
}

/** One live capture on one interface with one BPF filter. */
export interface Capture {
  readonly iface: string;
  readonly linkType: number;
  /** read everything the kernel has made visible so far (synchronously emits frames) */
  poll(): void;
  stats(): CaptureStats;
  close(): void;
}

export type FrameSink = (tsSec: number, tsUsec: number, frame: Uint8Array, caplen: number) => void;

export interface CaptureFactory {
  /** `ringBytes`: the kernel ring's size (resident once the kernel has cycled through it) */
  open(iface: string, filter: string, ringBytes: number, onFrame: FrameSink): Capture;
}

export interface RouteInfo {
  /** egress interface */
  readonly dev: string;
  /** preferred source address the kernel would use, if any */
  readonly prefsrc: string | null;
}

export interface RouteResolver {
  /** Looks up the route to every address (bounded by a timeout); missing entries have no route. */
  lookup(addresses: readonly string[], signal: AbortSignal): Promise<Map<string, RouteInfo>>;
}

/** What an engine needs from its host: the clock, the log and the native I/O (the app and the one-shot CLI both build one). */
export interface EngineHostDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly routes: RouteResolver;
  readonly sender: () => RawSender;
  readonly captures: CaptureFactory;
  readonly idBase: number;
  /** base of TCP sequence numbers */
  readonly seqBase: number;
  /** must match the capture factory's buffer timeout */
  readonly captureDelayMs: number;
}

/** Runs the CPU part of the capture path (decoding frame batches) off the main thread. */
export interface FrameDecoder {
  decode(batch: Uint8Array, used: number): Promise<DecodedBatch>;
}

/** What became of one probe. */
export const Outcome = {
  /** answered within its timeout; rtt is known unless the request frame was not captured */
  OK: 1,
  /** no answer within the timeout (or the answer came too late) */
  LOST: 2,
  /** no answer, but the capture dropped frames meanwhile: we cannot tell, so it is not loss */
  INDETERMINATE: 3,
  /** the kernel refused the send (EMSGSIZE, ENOBUFS, no route, …) or no probe id was free */
  SEND_ERROR: 4,
  /** answered by an ICMP error (unreachable, administratively prohibited, …): not loss */
  ICMP_ERROR: 5,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Receives the outcome of each probe it sent; `index` is the caller's own probe number. */
export interface OutcomeSink {
  onOutcome(index: number, outcome: Outcome, rttSeconds: number): void;
  /**
   * When present, called instead of onOutcome for a probe answered in time (OK or ICMP_ERROR):
   * `from` is who answered (the ICMP error's sender, else the probed address), `icmp` the
   * ICMP error's type << 8 | code, or -1 when the answer is no ICMP error (on-demand operations).
   */
  onAnswer?(index: number, outcome: Outcome, rttSeconds: number, from: string, icmp: number): void;
}

/** A capture of host-check traffic (DHCP): whole frames, with their kernel timestamps. */
export interface HostCapture {
  readonly linkType: number;
  stats(): CaptureStats;
  close(): void;
}

/**
 * Link-level I/O on a host interface for the host checks (rogue DHCP detection). Main thread
 * only, like every raw socket and capture.
 */
export interface HostPacketIo {
  /**
   * the interface's hardware address (6 bytes; empty when it has no Ethernet address), its IPv4
   * addresses and whether it is up (administratively and operationally); throws AppError
   * NET_ERR_NO_INTERFACE if it is missing
   */
  interfaceInfo(iface: string): Promise<{ readonly mac: Uint8Array; readonly ipv4: readonly string[]; readonly up: boolean }>;
  /** sends one complete IPv4 packet (header included) as a link broadcast out of `iface`; throws like capture(), NET_ERR_SEND on a send failure */
  sendBroadcast(iface: string, packet: Uint8Array): void;
  /**
   * captures whole frames matching `filter` on `iface` until closed; `frame` is only valid during
   * the call (the buffer is reused). Throws AppError NET_ERR_PERMISSION, NET_ERR_NO_INTERFACE,
   * NET_ERR_INTERFACE_DOWN or NET_ERR_CAPTURE.
   */
  capture(iface: string, filter: string, onFrame: (tsNs: bigint, frame: Uint8Array) => void): HostCapture;
}
