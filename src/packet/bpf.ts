/**
 * BPF filter strings (libpcap syntax) admitting only our own probes and their replies.
 * libpcap cannot index ICMPv6 (or TCP/UDP over IPv6) by protocol keyword reliably, so IPv6
 * clauses use fixed offsets for the no-extension-header case (ip6[6] is the next header).
 */

/** ICMP/ICMPv6 echo requests and replies whose identifier lies in [idBase, idBase + 15]. */
export function echoFilter(idBase: number): string {
  if (!Number.isInteger(idBase) || idBase < 0 || idBase > 0xfff0 || (idBase & 0xf) !== 0) {
    throw new RangeError(`echo id base must be a multiple of 16 in 0..0xfff0 (got ${idBase})`);
  }
  const base = `0x${idBase.toString(16)}`;
  const v4 = `(icmp and (icmp[0] = 0 or icmp[0] = 8) and (icmp[4:2] & 0xfff0) = ${base})`;
  const v6 = `(ip6 and ip6[6] = 58 and (ip6[40] = 128 or ip6[40] = 129) and (ip6[44:2] & 0xfff0) = ${base})`;
  return `${v4} or ${v6}`;
}
