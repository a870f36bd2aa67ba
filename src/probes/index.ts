/**
 * The explicit registry of probe types (no import side effects): one line per type. A type's
 * position is its number on the wire path (WireProbe.kind, decoded frame kinds), so the engine
 * and the frame decoder in the worker threads must be given this same list. Importable in a
 * worker: the types hold plain data and pure functions, nothing native.
 *
 * A new probe type is its module here (ProbeKind: template, capture clause, frame codec,
 * matcher, metric families; its pure packet codec, if new, in src/packet/), one line below, and
 * its name in the `type` enums of schema/config.schema.json (`$defs/target`, and the dst_port
 * rule when it uses ports) and of schema/openapi.yaml (tests hold both to this list).
 */
import { groupsOfTarget } from '../config/membership.js';
import type { Config } from '../config/types.js';
import type { SourcePorts } from '../net/engine.js';
import { FrameCodecs } from '../packet/probe-frame.js';
import { icmpProbe } from './icmp.js';
import { tcpSynProbe } from './tcp-syn.js';
import type { ProbeKind } from './types.js';
import { udpUnreachableProbe } from './udp-unreachable.js';

export const probeKinds: readonly ProbeKind[] = [
  icmpProbe,
  tcpSynProbe,
  udpUnreachableProbe,
];

/** The config's names of the probe types (the schemas' `type` enums are tested against it). */
export function probeTypeNames(kinds: readonly ProbeKind[] = probeKinds): string[] {
  return kinds.map((k) => k.type);
}

/** The probe type called `type` in the config, and its number, or null. */
export function probeKindOf(type: string, kinds: readonly ProbeKind[] = probeKinds): { kind: ProbeKind; number: number } | null {
  const number = kinds.findIndex((k) => k.type === type);
  return number < 0 ? null : { kind: kinds[number]!, number };
}

/** The frame decoder's view of the types (see decodeBatch). */
export function frameCodecs(kinds: readonly ProbeKind[] = probeKinds): FrameCodecs {
  return new FrameCodecs(kinds.map((k) => k.frames));
}

/**
 * The source-port ranges in use by each type that uses ports: those of the groups its targets
 * belong to (the capture filter admits them; see Engine.setPortRanges).
 */
export function sourcePortRanges(config: Config, kinds: readonly ProbeKind[] = probeKinds): SourcePorts {
  const out: Record<string, [number, number][]> = {};
  for (const kind of kinds) {
    if (!kind.usesPorts) continue;
    const groups = new Set<string>();
    for (const t of Object.values(config.targets)) {
      if (t.type === kind.type) for (const g of groupsOfTarget(config, t)) groups.add(g);
    }
    out[kind.type] = [...groups].map((g) => [config.groups[g]!.src_port_a, config.groups[g]!.src_port_z]);
  }
  return out;
}
