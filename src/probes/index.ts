/** The explicit registry of probe types (no import side effects). */
import type { ProbeType } from '../config/types.js';
import { icmpProbe } from './icmp.js';
import type { ProbeKind } from './types.js';

export const probeKinds: Partial<Record<ProbeType, ProbeKind>> = {
  ICMPping: icmpProbe,
};
