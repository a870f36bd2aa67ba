/**
 * UDP probe templates (UDPunreachable): a datagram to a closed port whose ICMP/ICMPv6
 * port-unreachable answer must identify the probe from the quoted headers alone.
 *
 * The 16-bit probe tag travels in two places that every ICMP error quotes (RFC 792 and
 * RFC 4443 guarantee the IP header plus the first 8 bytes after it):
 * - IPv4: the IP identification field. Use tags 1..65535: with IP_HDRINCL an id of 0 is
 *   replaced by the kernel.
 * - The UDP checksum, IPv4 and IPv6, when the datagram carries at least 2 data bytes: the
 *   first two data bytes are chosen per probe so that the checksum comes out as
 *   udpTagChecksum(tag), i.e. the tag itself, with tag 0 sent as 0xffff (a checksum of 0
 *   means "none" in RFC 768 and is forbidden in RFC 8200). Tags 0 and 0xffff therefore
 *   look the same in a checksum. IPv6 has no IP id, and the flow label stays 0 for every
 *   probe (netprobify wrote its id there, which moves flows between ECMP paths).
 * With fewer than 2 data bytes (ipPayloadSize 8 or 9) the checksum is the plain one and
 * an IPv6 probe carries no tag at all: udpTagCapacity() tells the prober to widen it.
 */
import { foldChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import { IPPROTO_UDP } from './icmp.js';
import { rewriteSource } from './ip-template.js';
import { IPV4_HEADER_LENGTH } from './ipv4.js';
import { IPV6_HEADER_LENGTH } from './ipv6.js';
import { buildIpPacket, fillData, l4Size, put16, type L4TemplateOptions } from './l4-template.js';

export const UDP_HEADER_LENGTH = 8;
/** Data bytes needed to carry the tag in the UDP checksum. */
export const UDP_TAG_DATA_LENGTH = 2;

export type UdpTemplateOptions = L4TemplateOptions;

export interface UdpTemplate {
  /** The full IP packet (a view of a shared slab, see pool.ts); the same bytes are returned by every stamp() call. */
  readonly bytes: Buffer;
  readonly length: number;
  /**
   * Writes the source port and the tag (both 16 bits): IPv4 id (+ header checksum), and,
   * with at least 2 data bytes, the data word that makes the UDP checksum equal
   * udpTagChecksum(tag); without them the ordinary UDP checksum (0 sent as 0xffff).
   */
  stamp(srcPort: number, tag: number): Uint8Array;
  /** Replaces the source address (same family) for the following stamp() calls. */
  setSource(src: Uint8Array): void;
}

/**
 * Whether probes built with these options identify themselves through the quoted headers
 * of an ICMP error: always for IPv4 (IP id), for IPv6 only with at least 2 data bytes,
 * i.e. ipPayloadSize >= 10. Non-finite sizes count as 8.
 */
export function udpTagCapacity(o: Pick<UdpTemplateOptions, 'family' | 'ipPayloadSize'>): boolean {
  if (o.family === 4) return true;
  const size = Number.isFinite(o.ipPayloadSize) ? l4Size(o.ipPayloadSize, UDP_HEADER_LENGTH) : UDP_HEADER_LENGTH;
  return size >= UDP_HEADER_LENGTH + UDP_TAG_DATA_LENGTH;
}

/** The UDP checksum a tagged datagram carries: tag & 0xffff, with 0 sent as 0xffff. */
export function udpTagChecksum(tag: number): number {
  const t = tag & 0xffff;
  return t === 0 ? 0xffff : t;
}

/** Ones-complement sum of a non-zero unfolded sum, folded to 1..0xffff (no complement). */
function fold(sum: number): number {
  return ~foldChecksum(sum) & 0xffff;
}

/**
 * Builds a UDP probe template (see the module comment for the tag). IPv4: DF as asked, id
 * stamped per probe. IPv6: flow label 0. Throws PKT_ERR_ENCODE on bad addresses (length,
 * or an all-zero source), a destination port outside 0..65535, or a packet over 65535 bytes.
 */
export function createUdpTemplate(o: UdpTemplateOptions): UdpTemplate {
  const { bytes, l4: udp, size, ipBase } = buildIpPacket(o, IPPROTO_UDP, UDP_HEADER_LENGTH, 'UDP');
  const tagged = size >= UDP_HEADER_LENGTH + UDP_TAG_DATA_LENGTH;
  put16(bytes, udp + 4, size);
  fillData(bytes, udp + UDP_HEADER_LENGTH, o.data);
  if (tagged) put16(bytes, udp + UDP_HEADER_LENGTH, 0);
  // sport, checksum and (when tagged) the tag word are zero: they add nothing here.
  const base = sum16(bytes, udp, bytes.length) + pseudoHeaderSum(o.src, o.dst, IPPROTO_UDP, size);

  const template = new UdpPacket(bytes, o.family, tagged, base, ipBase);
  template.stamp(0, 0);
  return template;
}

/** A UDP template: its bytes and the sums stamp() and setSource() update (methods shared by every template). */
class UdpPacket implements UdpTemplate {
  readonly bytes: Buffer;
  readonly length: number;
  readonly #family: 4 | 6;
  /** at least 2 data bytes: the checksum carries the tag */
  readonly #tagged: boolean;
  /** unfolded UDP sum with the pseudo-header; source port, checksum and tag word zero */
  #base: number;
  /** IPv4: header sum with id and checksum zero */
  #ipv4Base: number;

  constructor(bytes: Buffer, family: 4 | 6, tagged: boolean, base: number, ipv4Base: number) {
    this.bytes = bytes;
    this.length = bytes.length;
    this.#family = family;
    this.#tagged = tagged;
    this.#base = base;
    this.#ipv4Base = ipv4Base;
  }

  stamp(srcPort: number, tag: number): Uint8Array {
    const bytes = this.bytes;
    const udp = this.#family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const p = srcPort & 0xffff;
    const t = tag & 0xffff;
    put16(bytes, udp, p);
    if (this.#family === 4) {
      put16(bytes, 4, t);
      put16(bytes, 10, foldChecksum(this.#ipv4Base + t));
    }
    let cs: number;
    if (this.#tagged) {
      cs = t === 0 ? 0xffff : t;
      // The folded sum the receiver must see is ~cs (0xffff, i.e. -0, for a computed
      // checksum of 0 sent as 0xffff). The word w solves sum + w = target in ones-complement.
      const target = cs === 0xffff ? 0xffff : ~cs & 0xffff;
      const w = fold(target + (~fold(this.#base + p) & 0xffff));
      put16(bytes, udp + UDP_HEADER_LENGTH, w);
    } else {
      cs = foldChecksum(this.#base + p);
      if (cs === 0) cs = 0xffff;
    }
    put16(bytes, udp + 6, cs);
    return bytes;
  }

  setSource(src: Uint8Array): void {
    const d = rewriteSource(this.bytes, this.#family, src);
    this.#base += d;
    this.#ipv4Base += d;
  }
}
