// Ground truth for ICMP/ICMPv6 echo: pairs each echo request seen on the wire with its reply.
import { echoInFrame, type Family } from './ip-packet.js';

export interface TruthPacket {
  readonly tsNs: bigint;
  readonly data: Uint8Array;
  readonly origLen: number;
}

export interface EchoTruthEntry {
  requestNs: bigint;
  replyNs?: bigint;
  rttNs?: bigint;
}

export interface EchoProbe extends EchoTruthEntry {
  /** `${family}|${dst}|${id}|${seq}`; identical for repeated probes (e.g. the same id/seq every round). */
  readonly key: string;
  readonly family: Family;
  readonly src: string;
  readonly dst: string;
  readonly id: number;
  readonly seq: number;
  /** Replies beyond the first one that matched this probe (duplicates). */
  duplicates: number;
}

export function echoKey(family: Family, dst: string, id: number, seq: number): string {
  return `${family}|${dst}|${id}|${seq}`;
}

/**
 * All echo requests in capture order, each with its reply when one was captured.
 * A reply (src S, dst D, id, seq) matches the most recent request to S from D with the same id/seq
 * that was sent before it and is still unanswered; so a probe lost in one round is not "answered"
 * by the reply to the next round's probe with the same id/seq. Unmatched replies are ignored.
 */
export function echoProbes(packets: readonly TruthPacket[], linkType: number): EchoProbe[] {
  const probes: EchoProbe[] = [];
  const byKey = new Map<string, EchoProbe[]>();
  for (const p of packets) {
    const d = echoInFrame(p.data, linkType);
    if (d === undefined) continue;
    const { ip, echo } = d;
    if (echo.kind === 'request') {
      const probe: EchoProbe = {
        key: echoKey(ip.family, ip.dst, echo.id, echo.seq),
        family: ip.family,
        src: ip.src,
        dst: ip.dst,
        id: echo.id,
        seq: echo.seq,
        requestNs: p.tsNs,
        duplicates: 0,
      };
      probes.push(probe);
      const list = byKey.get(probe.key);
      if (list === undefined) byKey.set(probe.key, [probe]);
      else list.push(probe);
      continue;
    }
    const candidates = byKey.get(echoKey(ip.family, ip.src, echo.id, echo.seq));
    if (candidates === undefined) continue;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const c = candidates[i];
      if (c === undefined || c.src !== ip.dst || c.requestNs > p.tsNs) continue;
      if (c.replyNs !== undefined) {
        // The latest eligible request already has its reply: this one is a duplicate.
        c.duplicates++;
        break;
      }
      c.replyNs = p.tsNs;
      c.rttNs = p.tsNs - c.requestNs;
      break;
    }
  }
  return probes;
}

/**
 * The same data as a map keyed `${family}|${dst}|${id}|${seq}`. When a key repeats (same id/seq in a
 * later round), the second and later probes get the keys `${key}#2`, `${key}#3`, ... in capture order.
 */
export function echoTruth(packets: readonly TruthPacket[], linkType: number): Map<string, EchoTruthEntry> {
  const out = new Map<string, EchoTruthEntry>();
  const seen = new Map<string, number>();
  for (const probe of echoProbes(packets, linkType)) {
    const n = (seen.get(probe.key) ?? 0) + 1;
    seen.set(probe.key, n);
    const entry: EchoTruthEntry = { requestNs: probe.requestNs };
    if (probe.replyNs !== undefined) entry.replyNs = probe.replyNs;
    if (probe.rttNs !== undefined) entry.rttNs = probe.rttNs;
    out.set(n === 1 ? probe.key : `${probe.key}#${n}`, entry);
  }
  return out;
}

export interface EchoSummary {
  readonly sent: number;
  readonly answered: number;
  readonly lost: number;
  /** RTTs of the answered probes, in seconds, sorted ascending. */
  readonly rttSeconds: number[];
}

export function summarizeEcho(probes: readonly EchoProbe[]): EchoSummary {
  const rtts = probes.flatMap((p) => (p.rttNs === undefined ? [] : [Number(p.rttNs) / 1e9]));
  rtts.sort((a, b) => a - b);
  return { sent: probes.length, answered: rtts.length, lost: probes.length - rtts.length, rttSeconds: rtts };
}
