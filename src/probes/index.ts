/** The explicit registry of probe types (no import side effects). */
import type { ProbeType } from '../config/types.js';
import { icmpProbe } from './icmp.js';
import { tcpSynProbe } from './tcp-syn.js';
import type { ProbeKind } from './types.js';
import { udpUnreachableProbe } from './udp-unreachable.js';

export const probeKinds: Record<ProbeType, ProbeKind> = {
  ICMPping: icmpProbe,
  TCPsyn: tcpSynProbe,
  UDPunreachable: udpUnreachableProbe,
};
