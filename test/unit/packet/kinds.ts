// The frame kinds of the registry's probe types, by the names the decoder tests use.
import { frameKind, FrameRole } from '../../../src/packet/probe-frame.js';
import { frameCodecs, probeKindOf } from '../../../src/probes/index.js';

/** the registry's codecs: what the worker decodes with */
export const CODECS = frameCodecs();

const n = (type: string): number => probeKindOf(type)!.number;
const { REQUEST, REPLY, ERROR } = FrameRole;

export const FrameKind = {
  NONE: FrameRole.NONE,
  ECHO_REQUEST: frameKind(n('ICMPping'), REQUEST),
  ECHO_REPLY: frameKind(n('ICMPping'), REPLY),
  TCP_SYN: frameKind(n('TCPsyn'), REQUEST),
  TCP_REPLY: frameKind(n('TCPsyn'), REPLY),
  TCP_ERROR: frameKind(n('TCPsyn'), ERROR),
  UDP_PROBE: frameKind(n('UDPunreachable'), REQUEST),
  UDP_ERROR: frameKind(n('UDPunreachable'), ERROR),
} as const;

/** the kind of an ICMP error quoting `proto` (6 or 17) */
export const errorKind = (proto: number): number => (proto === 6 ? FrameKind.TCP_ERROR : FrameKind.UDP_ERROR);
