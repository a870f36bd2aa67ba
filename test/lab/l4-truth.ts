// Ground truth for TCP and UDP probes: decodes the captured TCP segments, UDP datagrams and
// ICMP/ICMPv6 errors (with the headers they quote). Independent of src/, like the rest of the lab.
import type { TruthPacket } from './echo-truth.js';
import { ipFromFrame, parseIp, parseIpHeader, u16, u32, type Family } from './ip-packet.js';

/** Fields every decoded packet carries. */
interface L4Base {
  readonly tsNs: bigint;
  readonly family: Family;
  readonly src: string;
  readonly dst: string;
  /** IPv4 TOS or IPv6 traffic class byte */
  readonly tos: number;
  /** IPv4 only (false for IPv6) */
  readonly dontFragment: boolean;
  /** IPv4 identification (0 for IPv6) */
  readonly ipId: number;
  /** IPv6 flow label (0 for IPv4) */
  readonly flowLabel: number;
}

export interface TcpSegment extends L4Base {
  readonly kind: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** the 9 flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...) */
  readonly flags: number;
  readonly headerLength: number;
  /** data bytes after the TCP header, from the IP lengths (not from the snap length) */
  readonly dataLength: number;
}

export interface UdpDatagram extends L4Base {
  readonly kind: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly checksum: number;
  /** UDP length field (header + data) */
  readonly udpLength: number;
}

/** The packet an ICMP error quotes: its addresses, protocol and the first bytes of its L4 header. */
export interface QuotedPacket {
  readonly family: Family;
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  /** IPv4 identification of the quoted packet (0 for IPv6) */
  readonly ipId: number;
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP: the quoted sequence number */
  readonly tcpSeq: number;
  /** UDP: the quoted checksum */
  readonly udpChecksum: number;
}

export interface IcmpError extends L4Base {
  readonly kind: 'icmp-error';
  /** ICMP or ICMPv6 type and code */
  readonly type: number;
  readonly code: number;
  readonly quoted: QuotedPacket;
}

export type L4Packet = TcpSegment | UdpDatagram | IcmpError;

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Destination unreachable types and the codes the tests use. */
export const ICMP4_UNREACH = 3;
export const ICMP4_PORT_UNREACH = 3;
export const ICMP4_ADMIN_PROHIBITED = 13;
export const ICMP6_UNREACH = 1;
export const ICMP6_PORT_UNREACH = 4;
export const ICMP6_ADMIN_PROHIBITED = 1;

function quotedPacket(inner: Uint8Array): QuotedPacket | undefined {
  // The quoted packet is truncated: read its fixed header only (its length fields lie).
  const h = parseIpHeader(inner);
  if (h === undefined) return undefined;
  const l4 = h.headerLength;
  if (inner.length < l4 + 8) return undefined;
  const protocol = h.nextHeader;
  return {
    family: h.family,
    src: h.src,
    dst: h.dst,
    protocol,
    ipId: h.ipId,
    srcPort: u16(inner, l4),
    dstPort: u16(inner, l4 + 2),
    tcpSeq: protocol === 6 ? u32(inner, l4 + 4) : 0,
    udpChecksum: protocol === 17 ? u16(inner, l4 + 6) : 0,
  };
}

/** Decodes one captured frame; undefined for anything but TCP, UDP and ICMP destination-unreachable-like errors. */
export function decodeL4(packet: TruthPacket, linkType: number): L4Packet | undefined {
  const raw = ipFromFrame(packet.data, linkType);
  if (raw === undefined) return undefined;
  const ip = parseIp(raw);
  if (ip === undefined || !ip.firstFragment) return undefined;
  const base: L4Base = {
    tsNs: packet.tsNs,
    family: ip.family,
    src: ip.src,
    dst: ip.dst,
    tos: ip.tos,
    dontFragment: ip.dontFragment,
    ipId: ip.ipId,
    flowLabel: ip.flowLabel,
  };
  // The upper-layer length from the IP header (the payload view may be cut by the snap length).
  const p = ip.payload;
  const l4Length = ip.totalLength - ip.payloadOffset;
  if (ip.protocol === 6) {
    if (p.length < 20) return undefined;
    const headerLength = ((p[12] ?? 0) >> 4) * 4;
    return {
      ...base,
      kind: 'tcp',
      srcPort: u16(p, 0),
      dstPort: u16(p, 2),
      seq: u32(p, 4),
      ack: u32(p, 8),
      flags: u16(p, 12) & 0x1ff,
      headerLength,
      dataLength: l4Length - headerLength,
    };
  }
  if (ip.protocol === 17) {
    if (p.length < 8) return undefined;
    return { ...base, kind: 'udp', srcPort: u16(p, 0), dstPort: u16(p, 2), udpLength: u16(p, 4), checksum: u16(p, 6) };
  }
  const v4 = ip.family === 'ipv4';
  const icmpError = (v4 && ip.protocol === 1 && [3, 11, 12].includes(p[0] ?? -1)) || (!v4 && ip.protocol === 58 && (p[0] ?? 255) < 128);
  if (icmpError && p.length >= 8) {
    const quoted = quotedPacket(p.subarray(8));
    if (quoted === undefined) return undefined;
    return { ...base, kind: 'icmp-error', type: p[0] ?? 0, code: p[1] ?? 0, quoted };
  }
  return undefined;
}

/** Every TCP, UDP and ICMP-error packet of the capture, in capture order. */
export function decodeL4All(packets: readonly TruthPacket[], linkType: number): L4Packet[] {
  const out: L4Packet[] = [];
  for (const p of packets) {
    const d = decodeL4(p, linkType);
    if (d !== undefined) out.push(d);
  }
  return out;
}

export const isTcp = (p: L4Packet): p is TcpSegment => p.kind === 'tcp';
export const isUdp = (p: L4Packet): p is UdpDatagram => p.kind === 'udp';
export const isIcmpError = (p: L4Packet): p is IcmpError => p.kind === 'icmp-error';

/** A SYN (no ACK, no RST). */
export const isSyn = (s: TcpSegment): boolean => (s.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK | TCP_FLAG.RST)) === TCP_FLAG.SYN;
export const isSynAck = (s: TcpSegment): boolean => (s.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK | TCP_FLAG.RST)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
export const isRst = (s: TcpSegment): boolean => (s.flags & TCP_FLAG.RST) !== 0;

export interface SynProbe {
  readonly syn: TcpSegment;
  /** the first SYN-ACK or RST answering it (ports swapped, ack = seq + 1 or seq + 1 + data), if any */
  reply?: TcpSegment;
  /** the first ICMP error quoting it, if any */
  icmpError?: IcmpError;
  rttNs?: bigint;
}

function addTo<P>(index: Map<string, P[]>, key: string, probe: P): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [probe]);
  else list.push(probe);
}

/**
 * An answer at `ts` goes to the most recent probe of `list` sent before it that `accepts` takes; if
 * that one is already answered, the answer is a duplicate and is ignored. Returns the probe answered
 * (its rttNs set), if any.
 */
function answerLatest<P extends { rttNs?: bigint }>(
  list: readonly P[] | undefined,
  sentNs: (probe: P) => bigint,
  ts: bigint,
  accepts: (probe: P) => boolean = () => true,
): P | undefined {
  if (list === undefined) return undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i] as P;
    if (sentNs(c) > ts || !accepts(c)) continue;
    if (c.rttNs !== undefined) return undefined;
    c.rttNs = ts - sentNs(c);
    return c;
  }
  return undefined;
}

/**
 * Every SYN in capture order, paired with its answer: a SYN-ACK or RST from the SYN's destination to
 * its source with swapped ports and an acknowledgement of seq + 1 (or seq + 1 + data for a RST that
 * takes the data), or an ICMP error quoting the SYN (same addresses, ports and sequence number).
 * An answer goes to the most recent matching SYN sent before it; if that one is already answered,
 * the answer is a duplicate and is ignored.
 */
export function pairSyns(packets: readonly L4Packet[]): SynProbe[] {
  const probes: SynProbe[] = [];
  const byFlow = new Map<string, SynProbe[]>();
  const flow = (src: string, dst: string, sp: number, dp: number): string => `${src}|${dst}|${sp}|${dp}`;
  const sentNs = (c: SynProbe): bigint => c.syn.tsNs;
  for (const p of packets) {
    if (p.kind === 'tcp' && isSyn(p)) {
      const probe: SynProbe = { syn: p };
      probes.push(probe);
      addTo(byFlow, flow(p.src, p.dst, p.srcPort, p.dstPort), probe);
    } else if (p.kind === 'tcp' && (isSynAck(p) || (isRst(p) && (p.flags & TCP_FLAG.ACK) !== 0))) {
      const accepts = ({ syn }: SynProbe): boolean =>
        p.ack === ((syn.seq + 1) >>> 0) || (isRst(p) && p.ack === ((syn.seq + 1 + syn.dataLength) >>> 0));
      const c = answerLatest(byFlow.get(flow(p.dst, p.src, p.dstPort, p.srcPort)), sentNs, p.tsNs, accepts);
      if (c !== undefined) c.reply = p;
    } else if (p.kind === 'icmp-error' && p.quoted.protocol === 6) {
      const q = p.quoted;
      const c = answerLatest(byFlow.get(flow(q.src, q.dst, q.srcPort, q.dstPort)), sentNs, p.tsNs, ({ syn }) => syn.seq === q.tcpSeq);
      if (c !== undefined) c.icmpError = p;
    }
  }
  return probes;
}

export interface UdpProbeTruth {
  readonly datagram: UdpDatagram;
  /** the first ICMP error quoting it (addresses, ports, checksum and, IPv4, identification) */
  icmpError?: IcmpError;
  rttNs?: bigint;
}

/** Every UDP datagram in capture order, paired with the first ICMP error that quotes it. */
export function pairUdp(packets: readonly L4Packet[]): UdpProbeTruth[] {
  const probes: UdpProbeTruth[] = [];
  const byKey = new Map<string, UdpProbeTruth[]>();
  const key = (src: string, dst: string, sp: number, dp: number, sum: number, id: number): string => `${src}|${dst}|${sp}|${dp}|${sum}|${id}`;
  for (const p of packets) {
    if (p.kind === 'udp') {
      const probe: UdpProbeTruth = { datagram: p };
      probes.push(probe);
      addTo(byKey, key(p.src, p.dst, p.srcPort, p.dstPort, p.checksum, p.ipId), probe);
    } else if (p.kind === 'icmp-error' && p.quoted.protocol === 17) {
      const q = p.quoted;
      const c = answerLatest(byKey.get(key(q.src, q.dst, q.srcPort, q.dstPort, q.udpChecksum, q.ipId)), (x) => x.datagram.tsNs, p.tsNs);
      if (c !== undefined) c.icmpError = p;
    }
  }
  return probes;
}

/** RTTs in seconds, sorted ascending (for percentile()). */
export function sortedRttSeconds(rttsNs: readonly (bigint | undefined)[]): number[] {
  return rttsNs
    .filter((x): x is bigint => x !== undefined)
    .map((x) => Number(x) / 1e9)
    .sort((a, b) => a - b);
}
