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
import { Outcome, type OutcomeSink } from '../net/types.js';
import { TCP_MAX_DATA, TcpIds } from '../net/l4-ids.js';
import { perSlotArray } from '../net/slots.js';
import type { Engine } from '../net/engine.js';
import { readAddresses } from '../packet/ip-template.js';
import type { Rotation } from './rotation.js';
import { destinationBytes, sourceAddress, TargetProbe } from './source.js';
import type { SourcePool } from './source-pool.js';
import type { PrepareInput, ProbeKind } from './types.js';

export interface TcpProbe extends WireProbe {
  readonly template: SynTemplate;
  readonly dstPort: number;
  /** TOS / traffic class of the RST after a SYN-ACK (its addresses are the template's) */
  readonly tos: number;
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
  const probeOf = perSlotArray<TcpProbe>(ctx.capacity);
  /** source number of the SYN in slot s, for probes with a source round robin */
  const srcOf: number[] = [];
  const rstBuf = Buffer.alloc(128);
  const addr = { 4: { src: new Uint8Array(4), dst: new Uint8Array(4) }, 6: { src: new Uint8Array(16), dst: new Uint8Array(16) } };
  /** resets the half-open connection at once: RST with seq = the SYN-ACK's acknowledgement */
  const sendRst = (p: TcpProbe, ports: number, ack: number, srcIndex: number): void => {
    // the SYN's addresses: those of its template (without sources, its source never moves)
    const a = addr[p.family];
    readAddresses(p.template.bytes, p.family, a.src, a.dst);
    const len = writeTcpRst(rstBuf, 0, {
      family: p.family, src: p.sources ? p.sources.address(srcIndex) : a.src, dst: a.dst, tos: p.tos, ttl: 64,
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
    const template = createSynTemplate({
      family, src: sourceAddress(input), dst, tos: group.dscp << 2, ttl: 64, dontFragment: target.dont_fragment, dstPort: target.dst_port ?? 0, ipPayloadSize: size, alloc: input.alloc,
    });
    return new TargetSynProbe(input, dst, template);
  },
};

/** A SYN of (target, group, address): each send takes the next source port (and source). */
class TargetSynProbe extends TargetProbe<SynTemplate> implements TcpProbe {
  readonly dstPort: number;
  readonly tos: number;
  readonly sources: SourcePool | null;
  srcPort = 0;
  srcIndex = 0;
  readonly #rotation: Rotation;

  constructor(input: PrepareInput, dst: Uint8Array, template: SynTemplate) {
    super(input, dst, IPPROTO_TCP, template);
    this.dstPort = input.target.dst_port ?? 0;
    this.tos = input.group.dscp << 2;
    this.sources = input.rotation.sources;
    this.#rotation = input.rotation;
  }

  send(engine: Engine, sink: OutcomeSink, index: number): void {
    this.srcIndex = this.#rotation.nextSource(this.template);
    this.srcPort = this.#rotation.nextPort();
    engine.send(this, sink, index);
  }
}
