// Overload scenario shared by bench/overload-loss.ts and the integration test: wireprobe probing
// ICMP at a rate past what its capture (or the CPU) sustains, CPU hogs running, against the wire
// truth of the same window. Wire truth: nftables counters in the probe namespace, echo requests in
// its output hook and echo replies in its prerouting hook, which runs after the packet taps, so an
// answer counted there was offered to every capture (tcpdump itself drops frames at these rates).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { netprobifyConfig, type TargetSpec } from './config.js';
import { sum, type Sample } from './exposition.js';
import type { Lab } from './lab.js';
import { labIpv4Targets, targetName } from './targets.js';
import { sleep } from './wait-for.js';
import { startWireprobe } from './wireprobe.js';

export interface Hogs {
  readonly pids: readonly number[];
  /** SIGKILL to each hog by PID (idempotent) */
  stop(): void;
}

/** CPU hogs: busy-looping node processes, each bounded in time by itself, stopped by PID. */
export function startHogs(count: number, maxSeconds: number): Hogs {
  const script = `const end = Date.now() + ${Math.ceil(maxSeconds * 1000)}; let x = 0; while (Date.now() < end) x++;`;
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) children.push(spawn(process.execPath, ['-e', script], { stdio: 'ignore' }));
  return {
    pids: children.map((c) => c.pid ?? -1),
    stop(): void {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
  };
}

/** `targets` ICMP targets at `rate` probes/s in all: interval 1 s, nb_packets rate/targets, timeout 1 s. */
export function overloadConfig(targets: number, rate: number): string {
  const nb = Math.max(1, Math.round(rate / targets));
  const spec: Record<string, TargetSpec> = {};
  labIpv4Targets(targets).forEach((destination, i) => {
    spec[targetName(i + 1)] = { type: 'ICMPping', destination, nb_packets: nb, timeout: 1 };
  });
  return netprobifyConfig({ global: { interval: 1, probe_name: 'overload', logging_level: 'WARNING' }, targets: spec });
}

export interface OverloadOptions {
  readonly targets: number;
  readonly rate: number;
  readonly hogs: number;
  readonly warmupS: number;
  readonly windowS: number;
  /** random loss of the probes in the target namespace (Lab.setLoss), % */
  readonly lossPct: number;
}

export interface OverloadResult {
  readonly wireRequests: number;
  readonly wireReplies: number;
  readonly wireLoss: number;
  /** binomial 99 % interval of the loss ratio, for wireprobe's settled count */
  readonly lo: number;
  readonly hi: number;
  readonly settled: number;
  readonly lost: number;
  readonly indeterminate: number;
  readonly reportedLoss: number;
  readonly captureDrops: number;
  /** frames the capture's kernel ring was offered (pcap ps_recv: read + dropped) */
  readonly captureReceived: number;
  readonly late: number;
  readonly unmatched: number;
  readonly answeredAfterLoss: number;
  readonly captureBehind: number;
  readonly softnetDropped: number;
  readonly softnetSqueezed: number;
  readonly vethRxDropped: number;
  /** wireprobe's lost count is inside the binomial 99 % band of the wire loss for its settled count */
  readonly inside: boolean;
  /** Δ of every wireprobe_* counter family over the window (diagnostics) */
  readonly engine: Readonly<Record<string, number>>;
  readonly band: readonly [number, number];
}

const TABLE = 'wptwire';

/** Counters in the probe namespace: requests out (output hook) and answers in (prerouting, after the taps). */
async function installProbeCounters(lab: Lab): Promise<void> {
  const script = [
    `add table inet ${TABLE}`,
    `add chain inet ${TABLE} pre { type filter hook prerouting priority -350; policy accept; }`,
    `add chain inet ${TABLE} out { type filter hook output priority 0; policy accept; }`,
    `add counter inet ${TABLE} requests`,
    `add counter inet ${TABLE} replies`,
    `add rule inet ${TABLE} out icmp type echo-request counter name requests`,
    `add rule inet ${TABLE} pre icmp type echo-reply counter name replies`,
    '',
  ].join('\n');
  const r = await lab.exec('probe', ['nft', '-f', '-'], { input: script, timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`nft (probe counters) failed: ${r.stderr.trim()}`);
}

interface Wire {
  readonly requests: number;
  readonly replies: number;
  readonly rxDropped: number;
}

async function readWire(lab: Lab): Promise<Wire> {
  const c = await lab.exec('probe', ['nft', '-j', 'list', 'counters', 'table', 'inet', TABLE], { timeoutMs: 10_000 });
  if (c.code !== 0) throw new Error(`nft list counters failed: ${c.stderr.trim()}`);
  const l = await lab.exec('probe', ['ip', '-s', '-j', 'link', 'show', 'dev', lab.probeIf], { timeoutMs: 10_000 });
  const list = (JSON.parse(c.stdout) as { nftables?: { counter?: { name?: string; packets?: number } }[] }).nftables ?? [];
  const packets = (name: string): number => list.find((x) => x.counter?.name === name)?.counter?.packets ?? Number.NaN;
  const link = JSON.parse(l.stdout) as { stats64?: { rx?: { dropped?: number } } }[];
  return { requests: packets('requests'), replies: packets('replies'), rxDropped: link[0]?.stats64?.rx?.dropped ?? Number.NaN };
}

/** Σ over CPUs of /proc/net/softnet_stat: backlog drops (column 2) and squeezes (column 3), hex. */
export function softnet(): { dropped: number; squeezed: number } {
  let dropped = 0;
  let squeezed = 0;
  for (const line of readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n')) {
    const f = line.trim().split(/\s+/);
    dropped += parseInt(f[1] ?? '0', 16);
    squeezed += parseInt(f[2] ?? '0', 16);
  }
  return { dropped, squeezed };
}

/**
 * The binomial 99 % band (z = 2.576) of the number of losses among `n` probes when the loss ratio is
 * the wire's `k / nWire`: the sampling error of n probes plus the uncertainty of the wire ratio itself.
 */
export function lossBand(n: number, k: number, nWire: number): readonly [number, number] {
  const z = 2.576;
  const p = nWire > 0 ? k / nWire : 0;
  const half = z * Math.sqrt(n * p * (1 - p)) + z * n * Math.sqrt((p * (1 - p)) / Math.max(1, nWire)) + 1;
  return [Math.max(0, n * p - half), n * p + half];
}

/** Binomial interval (Wilson score, z = 2.576: 99 %) of a ratio k/n. */
export function wilson99(k: number, n: number): { lo: number; hi: number } {
  if (n <= 0) return { lo: 0, hi: 1 };
  const z = 2.576;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = p + (z * z) / (2 * n);
  const w = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lo: Math.max(0, (c - w) / d), hi: Math.min(1, (c + w) / d) };
}

export async function runOverload(lab: Lab, o: OverloadOptions): Promise<OverloadResult> {
  await installProbeCounters(lab);
  if (o.lossPct > 0) await lab.setLoss(o.lossPct);
  const wp = await startWireprobe(lab, overloadConfig(o.targets, o.rate), { readyTimeoutMs: 60_000 });
  const hogs = startHogs(o.hogs, o.warmupS + o.windowS + 60);
  try {
    await sleep(o.warmupS * 1000);
    const a = await wp.scrape();
    const wa = await readWire(lab);
    const sa = softnet();
    await sleep(o.windowS * 1000);
    const wb = await readWire(lab);
    const sb = softnet();
    // the probes sent in the window settle up to timeout (1 s) + the reaping margin later
    await sleep(1500);
    const b = await wp.scrape();
    const d = (s: Sample[], t: Sample[], name: string): number => sum(t, name) - sum(s, name);
    const settled = d(a, b, 'icmp_sent_total');
    const lost = d(a, b, 'icmp_loss_total');
    const wireRequests = wb.requests - wa.requests;
    const wireReplies = wb.replies - wa.replies;
    const wireLost = Math.max(0, wireRequests - wireReplies);
    const wireLoss = wireRequests > 0 ? wireLost / wireRequests : Number.NaN;
    const ci = wilson99(wireLost, wireRequests);
    const reportedLoss = settled > 0 ? lost / settled : Number.NaN;
    const band = lossBand(settled, wireLost, wireRequests);
    const r: OverloadResult = {
      wireRequests, wireReplies, wireLoss, lo: ci.lo, hi: ci.hi, settled, lost,
      indeterminate: d(a, b, 'icmp_indeterminate_total'), reportedLoss,
      captureDrops: d(a, b, 'wireprobe_capture_dropped_packets_total'),
      captureReceived: d(a, b, 'wireprobe_capture_received_packets_total'),
      late: d(a, b, 'wireprobe_replies_late_total'),
      unmatched: d(a, b, 'wireprobe_frames_unmatched_total'),
      answeredAfterLoss: d(a, b, 'wireprobe_replies_after_loss_total'),
      captureBehind: d(a, b, 'wireprobe_probes_capture_behind_total'),
      softnetDropped: sb.dropped - sa.dropped, softnetSqueezed: sb.squeezed - sa.squeezed,
      vethRxDropped: wb.rxDropped - wa.rxDropped,
      inside: settled > 0 && lost >= band[0] && lost <= band[1],
      engine: Object.fromEntries(
        [...new Set(b.filter((x) => x.name.startsWith('wireprobe_') && x.name.endsWith('_total')).map((x) => x.name))].map((n) => [n, d(a, b, n)]),
      ),
      band,
    };
    return r;
  } finally {
    hogs.stop();
    await wp.stop();
  }
}

