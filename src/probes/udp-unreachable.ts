/**
 * UDP to a closed port (netprobify type UDPunreachable), IPv4 and IPv6: the answer is the
 * ICMP/ICMPv6 port unreachable from the destination itself, matched by the quoted headers
 * (IPv4 identification; UDP checksum made to carry a tag). The IPv6 flow label never changes,
 * so probes of one flow stay on one ECMP path. `dont_fragment` is honoured.
 */
import { createUdpTemplate, udpTagCapacity, UDP_HEADER_LENGTH, UDP_TAG_DATA_LENGTH } from '../packet/udp.js';
import type { UdpProbe } from '../net/probe-types.js';
import { destinationBytes, nextPort, nextSource, probeBase, sourceAddress, wireOf } from './source.js';
import type { ProbeKind } from './types.js';

/** The target's size, widened on IPv6 to carry the 2-byte tag that identifies the probe. */
export function udpPayloadSize(family: 4 | 6, configured: number | null): number {
  const size = Math.max(UDP_HEADER_LENGTH, configured ?? UDP_HEADER_LENGTH);
  return udpTagCapacity({ family, ipPayloadSize: size }) ? size : UDP_HEADER_LENGTH + UDP_TAG_DATA_LENGTH;
}

export const udpUnreachableProbe: ProbeKind = {
  type: 'UDPunreachable',
  metricPrefix: 'udp_unreachable',
  prepare(input) {
    const { target, group, family } = input;
    const dst = destinationBytes(input.address);
    const template = createUdpTemplate({
      family,
      src: sourceAddress(input),
      dst,
      tos: group.dscp << 2,
      ttl: 64,
      dontFragment: target.dont_fragment,
      dstPort: target.dst_port ?? 0,
      ipPayloadSize: udpPayloadSize(family, target.ip_payload_size),
    });
    const probe: UdpProbe = { ...probeBase(input, dst), template, wire: wireOf(template), dstPort: target.dst_port ?? 0 };
    return {
      send(engine, sink, index) {
        nextSource(input, template);
        engine.sendUdp(probe, nextPort(input), sink, index);
      },
    };
  },
};
