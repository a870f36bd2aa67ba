/**
 * What the frame decoder reports about one captured frame (re-exported by probe-frame.ts).
 */

/** Kinds of decoded frames. */
export const FrameKind = {
  NONE: 0,
  /** ICMP/ICMPv6 echo request (ours going out). */
  ECHO_REQUEST: 1,
  /** ICMP/ICMPv6 echo reply. */
  ECHO_REPLY: 2,
  /** A TCP segment with SYN set and ACK, RST, FIN clear: our SYN going out. */
  TCP_SYN: 3,
  /** A TCP segment with SYN+ACK, or with RST (with or without ACK): the target's answer. */
  TCP_REPLY: 4,
  /** A UDP datagram: our probe going out (the capture filter admits only our source ports). */
  UDP_PROBE: 5,
  /** An ICMP/ICMPv6 error quoting a TCP or UDP header. */
  ICMP_ERROR: 6,
} as const;

/**
 * One decoded frame. "Local" means OUR side of the probe, "remote" the target's.
 *
 * | kind         | k1 (local << 16 \| remote) | k2                                       | aux                  | proto    | peerHash of      | originHash of |
 * | ------------ | -------------------------- | ---------------------------------------- | -------------------- | -------- | ---------------- | ------------- |
 * | ECHO_*       | 0                          | 0                                        | 0                    | 1 or 58  | dst (req) / src  | = peerHash    |
 * | TCP_SYN      | sport, dport               | seq                                      | 0                    | 6        | IP destination   | = peerHash    |
 * | TCP_REPLY    | dport, sport               | ack number                               | 9 TCP flag bits      | 6        | IP source        | = peerHash    |
 * | UDP_PROBE    | sport, dport               | IPv4: IP id; IPv6: UDP checksum          | 0                    | 17       | IP destination   | = peerHash    |
 * | ICMP_ERROR   | quoted sport, quoted dport | TCP: quoted seq; UDP: quoted IPv4 id (v4) or quoted UDP checksum (v6) | type << 8 \| code | quoted protocol | QUOTED destination | outer IP source |
 *
 * TCP_REPLY aux is the 9 flag bits as on the wire (TCP_FIN 0x01 ... TCP_CWR 0x80, TCP_AE
 * 0x100): SYN-ACK 0x012, RST-ACK 0x014, bare RST 0x004. Its k2 is seq + 1 for a SYN-ACK to
 * our SYN of sequence `seq` (stacks without TCP Fast Open do not acknowledge SYN data) and
 * seq + 1 + dataLength for a RST-ACK (RFC 9293 acknowledges the whole segment). Our own
 * outgoing RSTs (writeTcpRst's, or the kernel's answer to a SYN-ACK) also decode as a bare-RST
 * TCP_REPLY, seen from the wrong side (k1 = target port << 16 | our port, peerHash = our
 * address, k2 = 0): tcpFilter does not admit them, and they match no probe anyway.
 * id and seq are the echo identifier and sequence number; 0 for every other kind.
 */
export interface DecodedFrame {
  kind: number;
  family: 4 | 6;
  id: number;
  seq: number;
  peerHash: number;
  k1: number;
  k2: number;
  aux: number;
  proto: number;
  originHash: number;
}

/** A DecodedFrame to decode into (kind NONE, all zero). */
export function newDecodedFrame(): DecodedFrame {
  return { kind: FrameKind.NONE, family: 4, id: 0, seq: 0, peerHash: 0, k1: 0, k2: 0, aux: 0, proto: 0, originHash: 0 };
}
