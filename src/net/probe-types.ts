/**
 * What a prepared probe hands the engine: its packet template and a Buffer view of it, where it
 * goes, which capture sees it, and its timeout. Built by the probe types (src/probes/).
 */
import type { EchoTemplate } from '../packet/icmp.js';
import type { SynTemplate } from '../packet/tcp.js';
import type { UdpTemplate } from '../packet/udp.js';
import type { Family } from './types.js';

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

export interface EchoProbe extends ProbeBase {
  readonly template: EchoTemplate;
  /** a Buffer view of template.bytes, made once */
  readonly wire: Buffer;
}

export interface TcpProbe extends ProbeBase {
  readonly template: SynTemplate;
  /** a Buffer view of template.bytes, made once */
  readonly wire: Buffer;
  readonly dstPort: number;
  /** what the RST after a SYN-ACK needs; `src` is the source when `sources` is null */
  readonly rst: { readonly src: Uint8Array; readonly dst: Uint8Array; readonly tos: number; readonly ttl: number };
  /** the group's source-address round robin, if any: the RST goes out from the SYN's source */
  readonly sources: { address(i: number): Uint8Array } | null;
}

export interface UdpProbe extends ProbeBase {
  readonly template: UdpTemplate;
  readonly wire: Buffer;
  readonly dstPort: number;
}
