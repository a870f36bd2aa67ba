/** The IP-level options shared by every probe packet template (ICMP echo, TCP SYN, UDP). */
export interface IpTemplateOptions {
  family: 4 | 6;
  /** 4 or 16 bytes; an IPv4 echo may use 0.0.0.0 (the kernel fills it in), TCP and UDP may not (their checksum covers it). */
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 TOS or IPv6 traffic class byte. */
  tos: number;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 only. */
  dontFragment: boolean;
  /** Bytes after the IP header, INCLUDING the L4 header (ICMP 8, TCP 20, UDP 8); smaller values are raised to it. */
  ipPayloadSize: number;
  /** Fill pattern repeated over the data after the L4 header (default 0x00..0xff repeating). */
  data?: Uint8Array;
}
