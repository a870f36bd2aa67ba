/** ICMP echo (netprobify type ICMPping), IPv4 and IPv6. */
import { addrHash, parseIp } from '../packet/addr.js';
import { createEchoTemplate } from '../packet/icmp.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { EchoProbe } from '../net/probe-types.js';
import type { ProbeKind } from './types.js';
import { destinationBytes, nextSource, wireOf } from './source.js';

const ICMP_HEADER = 8;

/** Bytes after the IP header (netprobify §3.5): the target's value, else the group's, else 8. */
export function icmpPayloadSize(target: number | null, group: number | null): number {
  const chosen = target !== null && target !== 0 ? target : group ?? ICMP_HEADER;
  return Math.max(ICMP_HEADER, chosen);
}

export const icmpProbe: ProbeKind = {
  type: 'ICMPping',
  metricPrefix: 'icmp',
  prepare(input) {
    const { target, group, address, family, route, capture, sources } = input;
    const dst = destinationBytes(address);
    const configured = family === 4 ? group.src_ipv4 : group.src_ipv6;
    const srcText = configured ?? route.prefsrc;
    // IPv4: a zero source is filled in by the kernel; IPv6 needs it for the checksum
    const src = sources ? Uint8Array.from(sources.address(0)) : srcText ? parseIp(srcText) : family === 4 ? new Uint8Array(4) : null;
    if (!src || src.length !== dst.length) {
      throw new AppError(ErrorCodes.NET_ERR_ROUTE, `no IPv${family} source address to reach ${address} via ${route.dev}`);
    }
    const template = createEchoTemplate({
      family,
      src,
      dst,
      tos: group.dscp << 2,
      ttl: 64,
      dontFragment: target.dont_fragment,
      ipPayloadSize: icmpPayloadSize(target.ip_payload_size, group.ip_payload_size),
    });
    const probe: EchoProbe = {
      family,
      dst: address,
      peerHash: addrHash(dst, 0, dst.length),
      template,
      wire: wireOf(template),
      capture,
      timeoutMs: target.timeout * 1000,
    };
    if (!sources) return { send: (engine, sink, index) => engine.sendEcho(probe, sink, index) };
    return {
      send(engine, sink, index) {
        nextSource(input, template);
        engine.sendEcho(probe, sink, index);
      },
    };
  },
};
