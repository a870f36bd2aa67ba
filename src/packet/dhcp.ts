/**
 * DHCPv4 (RFC 2131, options RFC 2132) for rogue server detection: builds a DHCPDISCOVER as a
 * complete IPv4/UDP packet, and decodes captured frames carrying BOOTP messages. The decoder
 * never throws: it returns null for frames that are not BOOTP over UDP 67/68, and a decode
 * error (a bounded code) for BOOTP messages it cannot read.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';
import { formatIp } from '../lib/address.js';
import { foldChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import { DLT_EN10MB, networkLayer } from './frame.js';
import { IPPROTO_UDP } from './icmp.js';
import { decodeIpv4, IPV4_HEADER_LENGTH, writeIpv4Header } from './ipv4.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

const BOOTREQUEST = 1;
const HTYPE_ETHERNET = 1;
const FLAG_BROADCAST = 0x8000;
/** op .. file: the fixed BOOTP header */
const BOOTP_FIXED = 236;
const MAGIC = 0x63825363;
const OPTIONS_AT = BOOTP_FIXED + 4;
/** RFC 1542 §3.4: relays may drop BOOTP messages shorter than this */
const BOOTP_MIN = 300;
const UDP_HEADER = 8;
const SNAME_AT = 44;
const FILE_AT = 108;

const OPT_PAD = 0;
const OPT_OVERLOAD = 52;
const OPT_MESSAGE_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_PARAMS = 55;
const OPT_VENDOR_CLASS = 60;
const OPT_CLIENT_ID = 61;
const OPT_END = 255;

/** subnet mask, router, DNS, domain name, lease time, server identifier */
const REQUESTED_PARAMS = [1, 3, 6, 15, 51, 54];

export interface DiscoverOptions {
  /** transaction id, 32 bits */
  readonly xid: number;
  /** client hardware (Ethernet) address, 6 bytes */
  readonly mac: Uint8Array;
  /** option 60, omitted when empty */
  readonly vendorClass: string;
}

/**
 * A DHCPDISCOVER as a complete IPv4 packet: 0.0.0.0:68 → 255.255.255.255:67, TTL 64, the
 * BROADCAST flag set (servers broadcast their offer, so it reaches a capture without a lease),
 * options 53 (DISCOVER), 61 (client id: type 1 + MAC), 55 (parameter list), 60 (vendor class),
 * padded to 300 BOOTP bytes. Throws PKT_ERR_ENCODE when the MAC is not 6 bytes or the vendor
 * class is not 1..255 ASCII bytes.
 */
export function buildDhcpDiscover(o: DiscoverOptions): Uint8Array {
  if (o.mac.length !== 6) throw new AppError(ErrorCodes.PKT_ERR_ENCODE, 'DHCP client MAC must be 6 bytes');
  if (o.vendorClass.length > 255 || !/^[\x20-\x7e]*$/.test(o.vendorClass)) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, 'DHCP vendor class must be at most 255 printable ASCII characters');
  }
  const options = [OPT_MESSAGE_TYPE, 1, DhcpMessageType.DISCOVER, OPT_CLIENT_ID, 7, HTYPE_ETHERNET, ...o.mac];
  options.push(OPT_PARAMS, REQUESTED_PARAMS.length, ...REQUESTED_PARAMS);
  if (o.vendorClass !== '') {
    options.push(OPT_VENDOR_CLASS, o.vendorClass.length, ...Array.from(o.vendorClass, (c) => c.charCodeAt(0)));
  }
  options.push(OPT_END);
  const bootpLength = Math.max(BOOTP_MIN, OPTIONS_AT + options.length);
  const udpLength = UDP_HEADER + bootpLength;
  const packet = new Uint8Array(IPV4_HEADER_LENGTH + udpLength);
  const src = new Uint8Array(4);
  const dst = new Uint8Array([255, 255, 255, 255]);
  writeIpv4Header(packet, 0, { src, dst, protocol: IPPROTO_UDP, tos: 0, ttl: 64, id: o.xid & 0xffff, dontFragment: false, payloadLength: udpLength });
  const view = new DataView(packet.buffer);
  const udp = IPV4_HEADER_LENGTH;
  view.setUint16(udp, DHCP_CLIENT_PORT);
  view.setUint16(udp + 2, DHCP_SERVER_PORT);
  view.setUint16(udp + 4, udpLength);
  const b = udp + UDP_HEADER;
  packet[b] = BOOTREQUEST;
  packet[b + 1] = HTYPE_ETHERNET;
  packet[b + 2] = 6;
  view.setUint32(b + 4, o.xid >>> 0);
  view.setUint16(b + 10, FLAG_BROADCAST);
  packet.set(o.mac, b + 28);
  view.setUint32(b + BOOTP_FIXED, MAGIC);
  packet.set(options, b + OPTIONS_AT);
  const cs = foldChecksum(sum16(packet, udp, packet.length, pseudoHeaderSum(src, dst, IPPROTO_UDP, udpLength)));
  view.setUint16(udp + 6, cs === 0 ? 0xffff : cs);
  return packet;
}

/** A BOOTP message carried in a captured frame. Addresses are dotted quads, MACs `aa:bb:…`. */
export interface DhcpFrame {
  /** Ethernet source address; '' for other link types */
  readonly srcMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** 1 request, 2 reply */
  readonly op: number;
  readonly xid: number;
  readonly broadcast: boolean;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** client hardware address (hlen bytes, at most 16) */
  readonly chaddr: string;
  /** option 53; 0 when absent (plain BOOTP) */
  readonly messageType: number;
  /** option 54; '' when absent */
  readonly serverId: string;
}

/** Why a BOOTP message could not be read. */
export type DhcpDecodeErrorCode = 'fragment' | 'truncated' | 'bad_magic' | 'bad_options';

export interface DhcpDecodeError {
  readonly error: DhcpDecodeErrorCode;
}

/** Options gathered from the options field and, with option 52, from `file` and `sname`. */
interface Options {
  messageType: number;
  serverId: string;
  overload: number;
}

/** Walks the options in buf[at..end); false when one runs past the end. First occurrence wins. */
function readOptions(buf: Uint8Array, at: number, end: number, out: Options, seen: Set<number>): boolean {
  let i = at;
  while (i < end) {
    const code = buf[i]!;
    if (code === OPT_END) return true;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 2 > end) return false;
    const len = buf[i + 1]!;
    const value = i + 2;
    if (value + len > end) return false;
    if (!seen.has(code)) {
      seen.add(code);
      if (code === OPT_MESSAGE_TYPE && len === 1) out.messageType = buf[value]!;
      else if (code === OPT_SERVER_ID && len === 4) out.serverId = formatIp(buf, value, 4);
      else if (code === OPT_OVERLOAD && len === 1) out.overload = buf[value]!;
    }
    i = value + len;
  }
  // RFC 2131 requires an end option, but the field may also simply run out: accept both.
  return true;
}

/** `aa:bb:…` of buf[at, at + len) (a MAC, or any hardware address). */
export function formatMac(buf: Uint8Array, at = 0, len = buf.length - at): string {
  const parts: string[] = [];
  for (let i = 0; i < len; i++) parts.push(buf[at + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

function readBootp(buf: Uint8Array, b: number, end: number): Options | DhcpDecodeError {
  if (b + OPTIONS_AT > end) return { error: 'truncated' };
  const magic = ((buf[b + BOOTP_FIXED]! << 24) | (buf[b + BOOTP_FIXED + 1]! << 16) | (buf[b + BOOTP_FIXED + 2]! << 8) | buf[b + BOOTP_FIXED + 3]!) >>> 0;
  if (magic !== MAGIC) return { error: 'bad_magic' };
  const opts: Options = { messageType: 0, serverId: '', overload: 0 };
  const seen = new Set<number>();
  if (!readOptions(buf, b + OPTIONS_AT, end, opts, seen)) return { error: 'bad_options' };
  // RFC 2131 §4.1: with overloading, `file` is read before `sname`.
  if ((opts.overload & 1) !== 0 && !readOptions(buf, b + FILE_AT, b + BOOTP_FIXED, opts, seen)) return { error: 'bad_options' };
  if ((opts.overload & 2) !== 0 && !readOptions(buf, b + SNAME_AT, b + FILE_AT, opts, seen)) return { error: 'bad_options' };
  return opts;
}

/**
 * Decodes the BOOTP message in the captured frame buf[0..len) of link type `linkType`: null
 * unless it is an IPv4 UDP datagram between ports 67/68 (either direction, or 67 → 67 from a
 * relay); a DhcpDecodeError when the message is fragmented, truncated or malformed. Only the
 * bytes within `len` and the IP/UDP lengths are read. Never throws.
 */
export function decodeDhcpFrame(buf: Uint8Array, len: number, linkType: number): DhcpFrame | DhcpDecodeError | null {
  const ipAt = networkLayer(buf, len, linkType);
  if (ipAt < 0) return null;
  const ip = decodeIpv4(buf, ipAt, len);
  if (ip === null || ip.protocol !== IPPROTO_UDP) return null;
  if (ip.fragmentOffset !== 0) return null;
  const u = ip.payloadOffset;
  if (u + UDP_HEADER > ip.payloadEnd) return null;
  const srcPort = (buf[u]! << 8) | buf[u + 1]!;
  const dstPort = (buf[u + 2]! << 8) | buf[u + 3]!;
  const isDhcp = (srcPort === DHCP_SERVER_PORT || srcPort === DHCP_CLIENT_PORT) && (dstPort === DHCP_SERVER_PORT || dstPort === DHCP_CLIENT_PORT);
  if (!isDhcp) return null;
  if (ip.moreFragments) return { error: 'fragment' };
  const udpLength = (buf[u + 4]! << 8) | buf[u + 5]!;
  const end = Math.min(ip.payloadEnd, u + Math.max(udpLength, UDP_HEADER));
  const b = u + UDP_HEADER;
  const opts = readBootp(buf, b, end);
  if ('error' in opts) return opts;
  const hlen = Math.min(buf[b + 2]!, 16);
  return {
    srcMac: linkType === DLT_EN10MB ? formatMac(buf, 6, 6) : '',
    srcIp: formatIp(buf, ip.srcOffset, 4),
    dstIp: formatIp(buf, ip.dstOffset, 4),
    srcPort,
    dstPort,
    op: buf[b]!,
    xid: ((buf[b + 4]! << 24) | (buf[b + 5]! << 16) | (buf[b + 6]! << 8) | buf[b + 7]!) >>> 0,
    broadcast: (buf[b + 10]! & 0x80) !== 0,
    ciaddr: formatIp(buf, b + 12, 4),
    yiaddr: formatIp(buf, b + 16, 4),
    siaddr: formatIp(buf, b + 20, 4),
    giaddr: formatIp(buf, b + 24, 4),
    chaddr: formatMac(buf, b + 28, hlen),
    messageType: opts.messageType,
    serverId: opts.serverId,
  };
}

/** libpcap filter for DHCPv4 traffic between clients and servers (and relays), both directions. */
export const DHCP_CAPTURE_FILTER = 'ip and udp and (port 67 or port 68)';
