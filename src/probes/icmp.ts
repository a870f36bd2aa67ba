/**
 * ICMP echo (netprobify type ICMPping), IPv4 and IPv6. The probe's identity is its echo
 * identifier and sequence number: id = idBase + slot >> 16, seq = slot & 0xffff, within the
 * engine's block of 16 identifiers.
 */
import { createEchoTemplate, IPPROTO_ICMP, IPPROTO_ICMPV6, type EchoTemplate } from '../packet/icmp.js';
import { echoFilter } from '../packet/bpf.js';
import { decodeEchoFrame } from '../packet/transport-frame.js';
import { FrameRole } from '../packet/probe-frame.js';
import type { MatchContext, ProbeMatcher, WireProbe } from '../net/probe-types.js';
import { Outcome, type OutcomeSink } from '../net/types.js';
import type { Engine } from '../net/engine.js';
import type { PrepareInput, ProbeKind } from './types.js';
import type { Rotation } from './rotation.js';
import { destinationBytes, sourceAddress, TargetProbe } from './source.js';

const ICMP_HEADER = 8;

/** Bytes after the IP header (netprobify §3.5): the target's value, else the group's, else 8. */
export function icmpPayloadSize(target: number | null, group: number | null): number {
  const chosen = target !== null && target !== 0 ? target : group ?? ICMP_HEADER;
  return Math.max(ICMP_HEADER, chosen);
}

export interface EchoProbe extends WireProbe {
  readonly template: EchoTemplate;
  /**
   * ICMP errors quoting the probe answer it (traceroute, on-demand operations); absent: they
   * are ignored and the probe waits for its echo reply (regular probing).
   */
  readonly errors?: boolean;
}

/**
 * Echo frames: id and seq name the slot (of a request, a reply, or the request an ICMP error
 * quotes); an error answers only a probe that asked for errors.
 */
function echoMatcher(ctx: MatchContext): ProbeMatcher<EchoProbe> {
  const ids = ctx.capacity >>> 16;
  const wantsErrors = new Uint8Array(ctx.capacity);
  return {
    bind(s, p) {
      p.template.stamp(ctx.idBase + (s >>> 16), s & 0xffff);
      wantsErrors[s] = p.errors === true ? 1 : 0;
      return true;
    },
    slotOf(b, i) {
      const idOff = (b.id[i]! - ctx.idBase) & 0xffff;
      return idOff < ids ? (idOff << 16) | b.seq[i]! : -1;
    },
    owns: (s, b, i) => (b.kind[i]! & 3) !== FrameRole.ERROR || wantsErrors[s] === 1,
    answer: (_s, _b, _i, role) => (role === FrameRole.ERROR ? Outcome.ICMP_ERROR : Outcome.OK),
    unmatched() {},
    release() {},
  };
}

export const icmpProbe: ProbeKind = {
  type: 'ICMPping',
  metrics: { prefix: 'icmp', human: 'ICMP echo', icmpErrors: false, unmatched: [] },
  usesPorts: false,
  // an error quoting an echo request: its id and seq name the slot (k2 unused)
  frames: { protocol4: IPPROTO_ICMP, protocol6: IPPROTO_ICMPV6, decode: decodeEchoFrame, quotedKey: () => 0 },
  filter: ({ idBase }) => echoFilter(idBase),
  createMatcher: echoMatcher,
  prepare(input) {
    const { target, group, family } = input;
    const dst = destinationBytes(input.address);
    const template = createEchoTemplate({
      family,
      src: sourceAddress(input, new Uint8Array(4)),
      dst,
      tos: group.dscp << 2,
      ttl: 64,
      dontFragment: target.dont_fragment,
      ipPayloadSize: icmpPayloadSize(target.ip_payload_size, group.ip_payload_size),
      alloc: input.alloc,
    });
    return new TargetEchoProbe(input, dst, template);
  },
};

/** A regular echo probe of (target, group, address); with a source round robin, each send moves on. */
class TargetEchoProbe extends TargetProbe<EchoTemplate> implements EchoProbe {
  /** the (target, group)'s round robin when its group has a source subnet, else null */
  readonly #rotation: Rotation | null;

  constructor(input: PrepareInput, dst: Uint8Array, template: EchoTemplate) {
    super(input, dst, input.family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, template);
    this.#rotation = input.rotation.sources ? input.rotation : null;
  }

  send(engine: Engine, sink: OutcomeSink, index: number): void {
    this.#rotation?.nextSource(this.template);
    engine.send(this, sink, index);
  }
}
