/**
 * BPF filter strings (libpcap syntax) admitting only our own probes and their replies.
 * libpcap cannot index ICMPv6 (or TCP/UDP over IPv6) by protocol keyword reliably, so IPv6
 * clauses use fixed offsets for the no-extension-header case (ip6[6] is the next header).
 */

/**
 * ICMP/ICMPv6 echo requests and replies whose identifier lies in [idBase, idBase + 15], and
 * the ICMP/ICMPv6 errors (dest-unreachable, time-exceeded) quoting such an echo request (for
 * IPv6 at fixed offsets: no extension header in the outer or the quoted packet).
 */
export function echoFilter(idBase: number): string {
  if (!Number.isInteger(idBase) || idBase < 0 || idBase > 0xfff0 || (idBase & 0xf) !== 0) {
    throw new RangeError(`echo id base must be a multiple of 16 in 0..0xfff0 (got ${idBase})`);
  }
  const base = `0x${idBase.toString(16)}`;
  const v4 = `(icmp and (icmp[0] = 0 or icmp[0] = 8) and (icmp[4:2] & 0xfff0) = ${base})`;
  const v6 = `(ip6 and ip6[6] = 58 and (ip6[40] = 128 or ip6[40] = 129) and (ip6[44:2] & 0xfff0) = ${base})`;
  const quoted = 'icmp[8 + (icmp[8] & 0xf) * 4';
  const err4 = `(icmp and (icmp[0] = 3 or icmp[0] = 11) and icmp[17] = 1 and ${quoted}] = 8 and (${quoted} + 4:2] & 0xfff0) = ${base})`;
  const err6 = `(ip6 and ip6[6] = 58 and (ip6[40] = 1 or ip6[40] = 3) and ip6[54] = 58 and ip6[88] = 128 and (ip6[92:2] & 0xfff0) = ${base})`;
  return `${v4} or ${v6} or ${err4} or ${err6}`;
}

/** Validated, sorted ranges with overlapping and adjacent ones merged. */
export function mergePortRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  if (ranges.length === 0) throw new RangeError('at least one local port range is needed');
  const valid = (p: number): boolean => Number.isInteger(p) && p >= 0 && p <= 0xffff;
  for (const [a, z] of ranges) {
    if (!valid(a) || !valid(z) || a > z) throw new RangeError(`bad port range [${a}, ${z}]`);
  }
  const sorted = ranges.map(([a, z]): [number, number] => [a, z]).sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [sorted[0]!];
  for (const [a, z] of sorted.slice(1)) {
    const last = merged[merged.length - 1]!;
    if (a <= last[1] + 1) last[1] = Math.max(last[1], z);
    else merged.push([a, z]);
  }
  return merged;
}

/** `x` lies in one of the ranges, as one parenthesised (or atomic) term. */
function inRanges(x: string, ranges: readonly [number, number][]): string {
  const terms = ranges.map(([a, z]) => (a === z ? `${x} = ${a}` : `(${x} >= ${a} and ${x} <= ${z})`));
  return terms.length === 1 ? terms[0]! : `(${terms.join(' or ')})`;
}

/** IPv6 packets whose first next header is hop-by-hop, routing, fragment or destination options. */
const IPV6_EXTENSION = '(ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60)';

/**
 * ICMP errors (dest-unreachable, time-exceeded) quoting `protocol` from one of our ports.
 * The quoted IPv4 header length is read from the quote itself (libpcap accepts computed
 * offsets inside icmp[]); ICMPv6 uses fixed offsets, i.e. no extension header in the outer
 * packet (those are admitted by IPV6_EXTENSION) nor in the quoted one (ours have none).
 */
function icmpErrorClauses(protocol: number, ranges: readonly [number, number][]): string {
  const v4 = `((icmp[0] = 3 or icmp[0] = 11) and icmp[17] = ${protocol} and ${inRanges('icmp[8 + (icmp[8] & 0xf) * 4:2]', ranges)})`;
  const v6 = `(ip6[6] = 58 and (ip6[40] = 1 or ip6[40] = 2 or ip6[40] = 3) and ip6[54] = ${protocol} and ${inRanges('ip6[88:2]', ranges)})`;
  return `${v4} or ${v6}`;
}

/**
 * TCP SYN probes and their answers, for our source ports `localPorts` (inclusive ranges):
 * - IPv4 (tcp[] also skips non-first fragments): our SYNs out (source port in range, SYN
 *   without ACK/RST/FIN), SYN-ACKs and RSTs back (destination port in range). Our own RSTs
 *   (and the kernel's) are not admitted.
 * - IPv6 without extension headers: the same at fixed offsets (TCP at ip6[40]).
 * - IPv6 with an extension header first: all of it — BPF cannot follow the chain
 *   (libpcap#600); the decoder sorts these out and the engine counts what matched nothing.
 * - ICMP/ICMPv6 errors quoting TCP with a quoted source port in range (see icmpErrorClauses).
 * Throws RangeError on an empty list or a bad range.
 */
export function tcpFilter(localPorts: readonly (readonly [number, number])[]): string {
  const r = mergePortRanges(localPorts);
  const syn = (flags: string): string => `${flags} & 0x17 = 0x02`;
  const reply = (flags: string): string => `(${flags} & 0x04 != 0 or ${flags} & 0x12 = 0x12)`;
  const v4 = `((${inRanges('tcp[0:2]', r)} and ${syn('tcp[13]')}) or (${inRanges('tcp[2:2]', r)} and ${reply('tcp[13]')}))`;
  const v6 = `(ip6[6] = 6 and ((${inRanges('ip6[40:2]', r)} and ${syn('ip6[53]')}) or (${inRanges('ip6[42:2]', r)} and ${reply('ip6[53]')})))`;
  return `${v4} or ${v6} or ${IPV6_EXTENSION} or ${icmpErrorClauses(6, r)}`;
}

/**
 * UDP probes: our datagrams out (source port in range; IPv4 first fragments, IPv6 without
 * extension headers at fixed offsets), IPv6 packets starting with an extension header (as
 * in tcpFilter), and ICMP/ICMPv6 errors quoting UDP with a quoted source port in range.
 * Throws RangeError on an empty list or a bad range.
 */
export function udpFilter(localPorts: readonly (readonly [number, number])[]): string {
  const r = mergePortRanges(localPorts);
  const v4 = inRanges('udp[0:2]', r);
  const v6 = `(ip6[6] = 17 and ${inRanges('ip6[40:2]', r)})`;
  return `${v4} or ${v6} or ${IPV6_EXTENSION} or ${icmpErrorClauses(17, r)}`;
}
