/**
 * TCP SYN, half-open (netprobify type TCPsyn), IPv4 and IPv6. A SYN-ACK (port open) and a
 * RST (port closed) both mean the host answered; the half-open connection is reset as soon
 * as the SYN-ACK is seen. ICMP errors answering the SYN are their own outcome, not loss.
 * The probe's identity is its sequence number (see net/l4-ids.ts), checked with its ports.
 */
import { createSynTemplate, TCP_ACK, TCP_HEADER_LENGTH, TCP_SYN, writeTcpRst, type SynTemplate } from '../packet/tcp.js';
import { tcpFilter } from '../packet/bpf.js';
import { IPPROTO_TCP } from '../packet/icmp.js';
import { FrameRole } from '../packet/probe-frame.js';
import { decodeTcpFrame } from '../packet/transport-frame.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { MatchContext, ProbeMatcher, WireProbe } from '../net/probe-types.js';
import { Outcome } from '../net/types.js';
import { TCP_MAX_DATA, TcpIds } from '../net/l4-ids.js';
import { destinationBytes, nextPort, nextSource, sourceAddress, wireProbe } from './source.js';
import type { ProbeKind } from './types.js';

export interface TcpProbe extends WireProbe {
  readonly template: SynTemplate;
  readonly dstPort: number;
  /** what the RST after a SYN-ACK needs; `src` is the source when `sources` is null */
  readonly rst: { readonly src: Uint8Array; readonly dst: Uint8Array; readonly tos: number; readonly ttl: number };
  /** the group's source-address round robin, if any: the RST goes out from the SYN's source */
  readonly sources: { address(i: number): Uint8Array } | null;
  /** the source port of the next send */
  srcPort: number;
  /** the source (of `sources`) the template is set to for the next send; 0 without sources */
  srcIndex: number;
}

/**
 * SYNs and their answers: the SYN by its sequence number, a SYN-ACK or RST by its
 * acknowledgement, an ICMP error by the quoted sequence number; then the ports must agree.
 */
function synMatcher(ctx: MatchContext): ProbeMatcher<TcpProbe> {
  const ids = new TcpIds(ctx.capacity, ctx.seqBase);
  /** per slot: the probe, for the RST after its SYN-ACK */
  const probeOf: (TcpProbe | undefined)[] = [];
  /** source number of the SYN in slot s, for probes with a source round robin */
  const srcOf: number[] = [];
  const rstBuf = Buffer.alloc(128);
  /** resets the half-open connection at once: RST with seq = the SYN-ACK's acknowledgement */
  const sendRst = (p: TcpProbe, ports: number, ack: number, srcIndex: number): void => {
    const len = writeTcpRst(rstBuf, 0, {
      family: p.family, src: p.sources ? p.sources.address(srcIndex) : p.rst.src, dst: p.rst.dst, tos: p.rst.tos, ttl: p.rst.ttl,
      srcPort: ports >>> 16, dstPort: ports & 0xffff, seq: ack,
    });
    if (ctx.transmit(p.family, IPPROTO_TCP, rstBuf, len, p.dst)) ctx.counters.rstSent++;
  };
  return {
    bind(s, p) {
      ids.ports[s] = ((p.srcPort << 16) | p.dstPort) >>> 0;
      ids.dataLen[s] = p.template.dataLength;
      p.template.stamp(p.srcPort, ids.tcpSeq(s), 0);
      probeOf[s] = p;
      if (p.sources) srcOf[s] = p.srcIndex;
      return true;
    },
    slotOf: (b, i, role) =>
      role === FrameRole.REPLY ? ids.slotFromAck(b.k2[i]!, ctx.capacity) : ids.slotFromSeq(b.k2[i]!, ctx.capacity),
    owns: (s, b, i) => ids.ports[s] === b.k1[i],
    answer(s, b, i, role) {
      if (role === FrameRole.ERROR) return Outcome.ICMP_ERROR;
      const probe = probeOf[s];
      if (probe && (b.aux[i]! & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) sendRst(probe, b.k1[i]!, b.k2[i]!, srcOf[s] ?? 0);
      return Outcome.OK;
    },
    unmatched(b, i, role, known) {
      if (role === FrameRole.REPLY) ctx.unmatched(known ? 'tcp_port' : 'tcp_ack', b.peerHash[i]!);
    },
    release(s) {
      probeOf[s] = undefined;
    },
  };
}

export const tcpSynProbe: ProbeKind = {
  type: 'TCPsyn',
  metrics: {
    prefix: 'tcpsyn',
    human: 'TCP SYN',
    icmpErrors: true,
    unmatched: [
      { what: 'tcp_ack', name: 'tcpsyn_match_ack_fail_count', help: 'TCP replies from the target whose acknowledgement matches no SYN of ours (only grows; not multiplied by the group count)' },
      { what: 'tcp_port', name: 'tcpsyn_port_mismatch_count', help: 'TCP replies from the target matching a SYN of ours by acknowledgement but not by ports (only grows)' },
    ],
  },
  usesPorts: true,
  frames: { protocol4: IPPROTO_TCP, protocol6: IPPROTO_TCP, decode: decodeTcpFrame, quotedKey: (q) => q.tcpSeq },
  filter: ({ ports }) => (ports.length > 0 ? tcpFilter(ports) : null),
  createMatcher: synMatcher,
  prepare(input) {
    const { target, group, family } = input;
    const dst = destinationBytes(input.address);
    // netprobify §3.5: the target's size (data carried in the SYN); the group's is ignored
    const size = Math.max(TCP_HEADER_LENGTH, target.ip_payload_size ?? TCP_HEADER_LENGTH);
    if (size - TCP_HEADER_LENGTH > TCP_MAX_DATA) {
      throw new AppError(ErrorCodes.PKT_ERR_ENCODE, `TCPsyn ip_payload_size ${size} carries more than ${TCP_MAX_DATA} bytes of data`);
    }
    const src = sourceAddress(input);
    const tos = group.dscp << 2;
    const template = createSynTemplate({
      family, src, dst, tos, ttl: 64, dontFragment: target.dont_fragment, dstPort: target.dst_port ?? 0, ipPayloadSize: size,
    });
    const probe: TcpProbe = wireProbe(input, dst, IPPROTO_TCP, template, {
      dstPort: target.dst_port ?? 0,
      rst: { src, dst, tos, ttl: 64 },
      sources: input.sources,
      srcPort: 0,
      srcIndex: 0,
    });
    return {
      send(engine, sink, index) {
        probe.srcIndex = nextSource(input, template);
        probe.srcPort = nextPort(input);
        engine.send(probe, sink, index);
      },
    };
  },
};
