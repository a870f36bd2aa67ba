/**
 * UDP to a closed port (netprobify type UDPunreachable), IPv4 and IPv6: the answer is the
 * ICMP/ICMPv6 port unreachable from the destination itself, matched by the quoted headers
 * (IPv4 identification; UDP checksum made to carry a tag: see net/l4-ids.ts), then the ports.
 * The IPv6 flow label never changes, so probes of one flow stay on one ECMP path.
 * `dont_fragment` is honoured.
 */
import { createUdpTemplate, udpTagCapacity, UDP_HEADER_LENGTH, UDP_TAG_DATA_LENGTH, type UdpTemplate } from '../packet/udp.js';
import { udpFilter } from '../packet/bpf.js';
import { ICMP4_DEST_UNREACH, ICMP6_DEST_UNREACH, IPPROTO_UDP } from '../packet/icmp.js';
import { ICMP4_CODE_PORT_UNREACH, ICMP6_CODE_PORT_UNREACH } from '../packet/icmp-error.js';
import { FrameRole } from '../packet/probe-frame.js';
import { decodeUdpFrame } from '../packet/transport-frame.js';
import type { MatchContext, ProbeMatcher, WireProbe } from '../net/probe-types.js';
import { Outcome, type OutcomeSink } from '../net/types.js';
import { UdpIds } from '../net/l4-ids.js';
import type { Engine } from '../net/engine.js';
import type { Rotation } from './rotation.js';
import { destinationBytes, sourceAddress, TargetProbe } from './source.js';
import type { PrepareInput, ProbeKind } from './types.js';

/** The target's size, widened on IPv6 to carry the 2-byte tag that identifies the probe. */
export function udpPayloadSize(family: 4 | 6, configured: number | null): number {
  const size = Math.max(UDP_HEADER_LENGTH, configured ?? UDP_HEADER_LENGTH);
  return udpTagCapacity({ family, ipPayloadSize: size }) ? size : UDP_HEADER_LENGTH + UDP_TAG_DATA_LENGTH;
}

export interface UdpProbe extends WireProbe {
  readonly template: UdpTemplate;
  readonly dstPort: number;
  /** the source port of the next send */
  srcPort: number;
}

/** Datagrams and the ICMP errors quoting them: by (source port, tag), then the ports. */
function udpMatcher(ctx: MatchContext): ProbeMatcher<UdpProbe> {
  const ids = new UdpIds(ctx.capacity);
  return {
    bind(s, p) {
      const tag = ids.bindUdp(s, p.srcPort, p.family);
      if (tag < 0) return false;
      ids.ports[s] = ((p.srcPort << 16) | p.dstPort) >>> 0;
      p.template.stamp(p.srcPort, tag);
      return true;
    },
    slotOf: (b, i) => ids.slotFromUdp(b.k1[i]! >>> 16, b.k2[i]!),
    owns: (s, b, i) => ids.ports[s] === b.k1[i],
    // a port unreachable from the target itself is the answer we want; any other error is its own outcome
    answer(_s, b, i) {
      const type = b.aux[i]! >>> 8;
      const code = b.aux[i]! & 0xff;
      const portUnreach =
        (b.family[i] === 4 && type === ICMP4_DEST_UNREACH && code === ICMP4_CODE_PORT_UNREACH) ||
        (b.family[i] === 6 && type === ICMP6_DEST_UNREACH && code === ICMP6_CODE_PORT_UNREACH);
      return portUnreach && b.originHash[i] === b.peerHash[i] ? Outcome.OK : Outcome.ICMP_ERROR;
    },
    unmatched(b, i, role) {
      if (role === FrameRole.ERROR) ctx.unmatched('udp_port', b.peerHash[i]!);
    },
    release: (s) => ids.release(s),
  };
}

export const udpUnreachableProbe: ProbeKind = {
  type: 'UDPunreachable',
  metrics: {
    prefix: 'udp_unreachable',
    human: 'UDP port-unreachable',
    icmpErrors: true,
    unmatched: [
      { what: 'udp_port', name: 'udp_unreachable_port_mismatch_count', help: 'ICMP errors about the target quoting a UDP datagram that matches none of our probes by ports and tag (only grows)' },
    ],
  },
  usesPorts: true,
  frames: {
    protocol4: IPPROTO_UDP,
    protocol6: IPPROTO_UDP,
    decode: decodeUdpFrame,
    // the tag: IPv4 identification, or the UDP checksum on IPv6
    quotedKey: (q, family) => (family === 4 ? q.quotedIpId : q.udpChecksum),
  },
  filter: ({ ports }) => (ports.length > 0 ? udpFilter(ports) : null),
  createMatcher: udpMatcher,
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
      alloc: input.alloc,
    });
    return new TargetUdpProbe(input, dst, template);
  },
};

/** A datagram of (target, group, address): each send takes the next source port (and source). */
class TargetUdpProbe extends TargetProbe<UdpTemplate> implements UdpProbe {
  readonly dstPort: number;
  srcPort = 0;
  readonly #rotation: Rotation;

  constructor(input: PrepareInput, dst: Uint8Array, template: UdpTemplate) {
    super(input, dst, IPPROTO_UDP, template);
    this.dstPort = input.target.dst_port ?? 0;
    this.#rotation = input.rotation;
  }

  send(engine: Engine, sink: OutcomeSink, index: number): void {
    this.#rotation.nextSource(this.template);
    this.srcPort = this.#rotation.nextPort();
    engine.send(this, sink, index);
  }
}
