// IP header fields of captured echo requests, for assertions on what wireprobe put on the wire (DSCP,
// DF, lengths, TTL). Independent of src/ like the rest of the lab; decoded by ip-packet.ts.
import type { TruthPacket } from './echo-truth.js';
import { echoInFrame, type IpFixedHeader } from './ip-packet.js';

export interface EchoRequestHeader extends IpFixedHeader {
  /** Length of the IP packet on the wire: the frame's original length minus its link-layer header. */
  readonly wireLength: number;
  /** Capture timestamp (ns since the epoch). */
  readonly tsNs: bigint;
  readonly id: number;
  readonly seq: number;
  /** ICMP/ICMPv6 message length (header + data) as captured: use a snap length that covers the packet. */
  readonly icmpLength: number;
}

/** The IP header of every ICMP/ICMPv6 echo request in the capture, in capture order. */
export function echoRequestHeaders(packets: readonly TruthPacket[], linkType: number): EchoRequestHeader[] {
  const out: EchoRequestHeader[] = [];
  for (const p of packets) {
    const d = echoInFrame(p.data, linkType);
    if (d === undefined || d.echo.kind !== 'request') continue;
    const { raw, ip, echo } = d;
    const linkHeader = p.data.length - raw.length;
    // ip carries the fixed header's fields (and the decoded upper layer, which rides along unused).
    out.push({ ...ip, wireLength: p.origLen - linkHeader, tsNs: p.tsNs, id: echo.id, seq: echo.seq, icmpLength: 8 + echo.data.length });
  }
  return out;
}
