// Target addresses inside the lab.

/**
 * `count` distinct IPv4 addresses of 198.19.0.0/16 (AnyIP: all answer), spread over the whole /16:
 * address i is 198.19.(i mod 256).(1 + floor(i / 256)); .0 and .255 are never used. At most 256*254.
 */
export function labIpv4Targets(count: number): string[] {
  if (!Number.isInteger(count) || count < 0 || count > 256 * 254) throw new RangeError(`labIpv4Targets: bad count ${count}`);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`198.19.${i % 256}.${1 + Math.floor(i / 256)}`);
  return out;
}

/** `count` addresses 2001:db8:1::1, 2001:db8:1::2, ... (AnyIP: all answer). */
export function labIpv6Targets(count: number): string[] {
  if (!Number.isInteger(count) || count < 0 || count > 0xfffe) throw new RangeError(`labIpv6Targets: bad count ${count}`);
  const out: string[] = [];
  for (let i = 1; i <= count; i++) out.push(`2001:db8:1::${i.toString(16)}`);
  return out;
}

/** An address of the dead IPv4 prefix (routed to the targets, silently dropped). */
export function deadIpv4(host = 7): string {
  return `198.18.255.${host}`;
}

/** An address of the dead IPv6 prefix. */
export function deadIpv6(host = 7): string {
  return `2001:db8:dead::${host.toString(16)}`;
}

/** Zero-padded target names: t00001, t00002, ... (valid netprobify names: ^[a-z0-9_\-.]+$). */
export function targetName(i: number, prefix = 't'): string {
  return `${prefix}${String(i).padStart(5, '0')}`;
}
