/**
 * TCP SYN probe templates and the RST that tears the half-open connection down (RFC 9293).
 * The whole IP packet is built once; each probe only stamps the source port, the sequence
 * number, the IPv4 id and incrementally computed checksums into it.
 */
import { foldChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import { IPPROTO_TCP } from './icmp.js';
import { IPV4_HEADER_LENGTH, writeIpv4Header } from './ipv4.js';
import { IPV6_HEADER_LENGTH, writeIpv6Header } from './ipv6.js';
import { buildIpPacket, encodeError, fillData, put16, put32, type L4TemplateOptions } from './l4-template.js';
import { rewriteSource } from './ip-template.js';

/** A TCP header without options (data offset 5). */
export const TCP_HEADER_LENGTH = 20;

/** The nine TCP flag bits, as decoded into DecodedFrame.aux (AE is the former NS bit). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_AE = 0x100;

/** Receive window advertised in our SYNs. */
export const SYN_WINDOW = 65535;

export type SynTemplateOptions = L4TemplateOptions;

export interface SynTemplate {
  /** The full IP packet (a view of a shared slab, see pool.ts); the same bytes are returned by every stamp() call. */
  readonly bytes: Buffer;
  readonly length: number;
  /** Bytes of data carried after the TCP header (ipPayloadSize - 20). */
  readonly dataLength: number;
  /**
   * Writes the source port (16 bits), the sequence number (uint32) and, for IPv4, the IP
   * id (16 bits; 0 lets the kernel pick one), then the TCP checksum (from a precomputed
   * partial sum that includes the pseudo-header) and the IPv4 header checksum.
   */
  stamp(srcPort: number, seq: number, ipId: number): Uint8Array;
  /** Replaces the source address (same family) for the following stamp() calls. */
  setSource(src: Uint8Array): void;
}

/**
 * Builds a SYN template: no TCP options (data offset 5, like netprobify's scapy SYNs and
 * hping3), flags SYN, window 65535, ack and urgent pointer 0. An MSS option is left out on
 * purpose: the handshake is never completed, so the peer never uses the value, and without
 * options the header is exactly 20 bytes, which keeps the fixed-offset BPF checks and the
 * quoted-header decoding simple (RFC 792 quotes only 8 bytes of it anyway).
 * Throws PKT_ERR_ENCODE on bad addresses (length, or an all-zero source), a destination
 * port outside 0..65535, or a packet larger than 65535 bytes.
 */
export function createSynTemplate(o: SynTemplateOptions): SynTemplate {
  const { bytes, l4: tcp, size, ipBase } = buildIpPacket(o, IPPROTO_TCP, TCP_HEADER_LENGTH, 'SYN');
  bytes[tcp + 12] = (TCP_HEADER_LENGTH / 4) << 4;
  bytes[tcp + 13] = TCP_SYN;
  put16(bytes, tcp + 14, SYN_WINDOW);
  fillData(bytes, tcp + TCP_HEADER_LENGTH, o.data);
  // sport, seq and checksum are still zero: they add nothing to the base sum.
  const base = sum16(bytes, tcp, bytes.length) + pseudoHeaderSum(o.src, o.dst, IPPROTO_TCP, size);

  const template = new SynPacket(bytes, o.family, size - TCP_HEADER_LENGTH, base, ipBase);
  template.stamp(0, 0, 0);
  return template;
}

/** A SYN template: its bytes and the sums stamp() and setSource() update (methods shared by every template). */
class SynPacket implements SynTemplate {
  readonly bytes: Buffer;
  readonly length: number;
  readonly dataLength: number;
  readonly #family: 4 | 6;
  /** unfolded TCP sum with the pseudo-header; source port, seq and checksum zero */
  #base: number;
  /** IPv4: header sum with id and checksum zero */
  #ipv4Base: number;

  constructor(bytes: Buffer, family: 4 | 6, dataLength: number, base: number, ipv4Base: number) {
    this.bytes = bytes;
    this.length = bytes.length;
    this.dataLength = dataLength;
    this.#family = family;
    this.#base = base;
    this.#ipv4Base = ipv4Base;
  }

  stamp(srcPort: number, seq: number, ipId: number): Uint8Array {
    const bytes = this.bytes;
    const tcp = this.#family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const p = srcPort & 0xffff;
    const s = seq >>> 0;
    put16(bytes, tcp, p);
    put32(bytes, tcp + 4, s);
    put16(bytes, tcp + 16, foldChecksum(this.#base + p + (s >>> 16) + (s & 0xffff)));
    if (this.#family === 4) {
      const id = ipId & 0xffff;
      put16(bytes, 4, id);
      put16(bytes, 10, foldChecksum(this.#ipv4Base + id));
    }
    return bytes;
  }

  setSource(src: Uint8Array): void {
    const d = rewriteSource(this.bytes, this.#family, src);
    this.#base += d;
    this.#ipv4Base += d;
  }
}

export interface TcpRstOptions {
  family: 4 | 6;
  src: Uint8Array;
  dst: Uint8Array;
  tos: number;
  ttl: number;
  srcPort: number;
  dstPort: number;
  seq: number;
}

/**
 * Writes a complete IP + TCP RST packet at buf[off] and returns its length (40 for IPv4,
 * 60 for IPv6): no data, flags RST only, ack 0, window 0, both checksums filled in. IPv4
 * gets DF and id 0 (the kernel picks an id for IP_HDRINCL packets with id 0), IPv6 flow
 * label 0 — the same shape as the RST a Linux kernel sends itself.
 *
 * `seq` must be the peer's RCV.NXT, i.e. the acknowledgement number of its SYN-ACK
 * (DecodedFrame.k2 of the TCP_REPLY). A RST carrying exactly RCV.NXT is accepted by every
 * stack, including RFC 5961 ones that answer any other in-window RST with a challenge ACK.
 * Without TCP Fast Open (we never hold a cookie) the peer acknowledges the SYN only and
 * drops its data, so RCV.NXT = our SYN seq + 1, not seq + 1 + dataLength; only a peer that
 * accepted the data acknowledges seq + 1 + dataLength. Taking the value from the SYN-ACK
 * covers both. (netprobify used the SYN's own seq, which lies before the window and is
 * ignored.) No RST is needed after a RST-ACK: that connection never existed.
 * Throws PKT_ERR_ENCODE on bad address lengths or when the packet does not fit in buf.
 */
export function writeTcpRst(buf: Uint8Array, off: number, o: TcpRstOptions): number {
  const v4 = o.family === 4;
  const ipLen = v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
  const total = ipLen + TCP_HEADER_LENGTH;
  if (!Number.isInteger(off) || off < 0 || off + total > buf.length) {
    throw encodeError('TCP RST does not fit in the buffer');
  }
  if (v4) {
    writeIpv4Header(buf, off, {
      src: o.src, dst: o.dst, protocol: IPPROTO_TCP, tos: o.tos, ttl: o.ttl, id: 0,
      dontFragment: true, payloadLength: TCP_HEADER_LENGTH,
    });
  } else {
    writeIpv6Header(buf, off, {
      src: o.src, dst: o.dst, nextHeader: IPPROTO_TCP, hopLimit: o.ttl, trafficClass: o.tos,
      flowLabel: 0, payloadLength: TCP_HEADER_LENGTH,
    });
  }
  const tcp = off + ipLen;
  put16(buf, tcp, o.srcPort);
  put16(buf, tcp + 2, o.dstPort);
  put32(buf, tcp + 4, o.seq >>> 0);
  put32(buf, tcp + 8, 0);
  buf[tcp + 12] = (TCP_HEADER_LENGTH / 4) << 4;
  buf[tcp + 13] = TCP_RST;
  put32(buf, tcp + 14, 0); // window and checksum
  put16(buf, tcp + 18, 0);
  const ph = pseudoHeaderSum(o.src, o.dst, IPPROTO_TCP, TCP_HEADER_LENGTH);
  put16(buf, tcp + 16, foldChecksum(sum16(buf, tcp, tcp + TCP_HEADER_LENGTH, ph)));
  return total;
}
