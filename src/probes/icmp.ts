/** ICMP echo (netprobify type ICMPping), IPv4 and IPv6. */
import { createEchoTemplate } from '../packet/icmp.js';
import type { EchoProbe } from '../net/probe-types.js';
import type { ProbeKind } from './types.js';
import { destinationBytes, nextSource, probeBase, sourceAddress, wireOf } from './source.js';

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
    const { target, group, family, sources } = input;
    const dst = destinationBytes(input.address);
    const src = sourceAddress(input, new Uint8Array(4));
    const template = createEchoTemplate({
      family,
      src,
      dst,
      tos: group.dscp << 2,
      ttl: 64,
      dontFragment: target.dont_fragment,
      ipPayloadSize: icmpPayloadSize(target.ip_payload_size, group.ip_payload_size),
    });
    const probe: EchoProbe = { ...probeBase(input, dst), template, wire: wireOf(template) };
    if (!sources) return { send: (engine, sink, index) => engine.sendEcho(probe, sink, index) };
    return {
      send(engine, sink, index) {
        nextSource(input, template);
        engine.sendEcho(probe, sink, index);
      },
    };
  },
};
