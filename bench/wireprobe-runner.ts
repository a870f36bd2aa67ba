// One wireprobe step: a fresh wireprobe in the lab's probe namespace with N targets at a given rate,
// warm-up, scrape, CPU/wire window (no scrape inside), scrape, stop.
import {
  findAll,
  netprobifyConfig,
  sleep,
  startWireprobe,
  sum,
  targetName,
  type Lab,
  type TargetSpec,
  type WireprobeHandle,
} from '../test/lab/index.js';
import { clockTicksPerSecond, commOf, cpuTicks, findProcess, measureWindow, processTree, type WindowSample } from './proc-stats.js';
import { BENCH_TYPES, type BenchType, type WireWitness } from './probe-types.js';
import { windowFields, windowNotes, type ScrapeCost, type ScrapeEncodingCost, type StepResult } from './report.js';
import { scrapeToFile, type Scrape, type ScrapeEncoding } from './scrape.js';

export interface RatePlan {
  readonly nbPackets: number;
  readonly intervalS: number;
  /** targets × nb_packets / interval: the rate the config asks for. */
  readonly requested: number;
}

/** nb_packets and interval (both integers ≥ 1, as the config schema wants) for `rate` probes/s over `targets`. */
export function planRate(targets: number, rate: number): RatePlan {
  if (rate >= targets) {
    const nb = Math.max(1, Math.round(rate / targets));
    return { nbPackets: nb, intervalS: 1, requested: targets * nb };
  }
  const interval = Math.max(1, Math.round(targets / rate));
  return { nbPackets: 1, intervalS: interval, requested: targets / interval };
}

/** A window of whole periods: a periodic sender puts the same number of packets in any such window. */
export function alignedWindow(seconds: number, periodS: number): number {
  return periodS <= 0 ? seconds : Math.ceil(seconds / periodS - 1e-9) * periodS;
}

/** Source ports of the TCP and UDP probes (netprobify's default is 2: 65000–65001). */
export const BENCH_SRC_PORTS = { src_port_a: 65000, src_port_z: 65099 } as const;

export function wireprobeConfig(addresses: readonly string[], plan: RatePlan, type: BenchType): string {
  const spec = BENCH_TYPES[type];
  const port = spec.dstPort === undefined ? {} : { dst_port: spec.dstPort };
  const targets: Record<string, TargetSpec> = {};
  addresses.forEach((destination, i) => {
    targets[targetName(i + 1)] = { type: spec.probeType, destination, ...port, nb_packets: plan.nbPackets, timeout: 1 };
  });
  const groups = spec.probeType === 'ICMPping' ? undefined : { bench: { ...BENCH_SRC_PORTS } };
  return netprobifyConfig({ global: { interval: plan.intervalS, probe_name: 'bench', logging_level: 'WARNING' }, ...(groups === undefined ? {} : { groups }), targets });
}

export interface WireprobeStepOptions {
  readonly kind: 'sweep' | 'low-rate';
  readonly type: BenchType;
  readonly wire: WireWitness;
  readonly addresses: readonly string[];
  readonly plan: RatePlan;
  readonly warmupS: number;
  readonly windowS: number;
  /** Pause between the first scrape and the window, so the scrape's trailing work (GC) stays out of it. */
  readonly settleS: number;
  /** Runs after the second scrape, before wireprobe is stopped (the scrape-cost measurement). */
  readonly after?: (wp: WireprobeHandle, pid: number, win: WindowSample) => Promise<void>;
  readonly log: (msg: string) => void;
}

/** Families summed between the two scrapes; `<p>` is the type's metric prefix. */
const METRICS = {
  sent: '<p>_sent_total',
  loss: '<p>_loss_total',
  indet: '<p>_indeterminate_total',
  sendErr: '<p>_send_errors_total',
  icmpErr: '<p>_icmp_errors_total',
  capDrop: 'wireprobe_capture_dropped_packets_total',
  probes: 'wireprobe_probes_sent_total',
  exhausted: 'wireprobe_probe_ids_exhausted_total',
  late: 'wireprobe_replies_late_total',
} as const;

/** netprobify's diagnostic counts of replies that matched no probe of ours (gauges that only grow). */
const MISMATCH = ['tcpsyn_match_ack_fail_count', 'tcpsyn_port_mismatch_count', 'udp_unreachable_port_mismatch_count'] as const;

/** Sleeps `ms` unless the process exits first; true if it is still running. */
async function aliveAfter(wp: WireprobeHandle, ms: number): Promise<boolean> {
  const r = await Promise.race([sleep(ms).then(() => 'slept' as const), wp.process.exited.then(() => 'exited' as const)]);
  return r === 'slept';
}

interface Measured {
  readonly a: Scrape;
  readonly b: Scrape;
  readonly win: WindowSample;
  readonly exitCode: number | undefined;
}

type CounterFields = Pick<StepResult, 'toolRate' | 'sent' | 'lost' | 'lossPct' | 'indeterminate' | 'sendErrors' | 'captureDrops' | 'idsExhausted' | 'sendLagS'>;

/** Pass/fail and the row of a measured step: Δ of wireprobe's own counters between the scrapes, the window. */
function evaluate(o: WireprobeStepOptions, m: Measured): { fields: CounterFields; reasons: string[]; notes: string[] } {
  const p = BENCH_TYPES[o.type].metricPrefix;
  const d = (name: string): number => sum(m.b.samples, name.replace('<p>', p)) - sum(m.a.samples, name.replace('<p>', p));
  const sent = d(METRICS.sent);
  const lost = d(METRICS.loss);
  const indeterminate = d(METRICS.indet);
  const sendErrors = d(METRICS.sendErr);
  const icmpErrors = p === 'icmp' ? 0 : d(METRICS.icmpErr);
  const idsExhausted = d(METRICS.exhausted);
  const lag = findAll(m.b.samples, 'wireprobe_send_lag_seconds')[0]?.value ?? Number.NaN;
  const toolRate = d(METRICS.probes) / ((m.b.midMs - m.a.midMs) / 1000);
  const achieved = m.win.wirePackets / m.win.seconds;
  const lossPct = sent > 0 ? (100 * lost) / sent : Number.NaN;
  const undecided = indeterminate + sendErrors;
  const reasons: string[] = [];
  if (!m.win.complete || m.exitCode !== undefined) reasons.push(`exited ${m.exitCode ?? '?'}`);
  if (!(sent > 0)) reasons.push('nothing settled');
  if (lossPct > 0.1) reasons.push(`loss ${lossPct.toFixed(2)} %`);
  if (!(achieved >= 0.95 * o.plan.requested)) reasons.push(`rate ${((100 * achieved) / o.plan.requested).toFixed(0)} %`);
  if (sent > 0 && undecided / (sent + undecided) > 0.001) reasons.push(`indet.+send err. ${undecided}`);
  const notes = [...reasons];
  if (icmpErrors > 0) notes.push(`icmp errors ${icmpErrors}`);
  const unmatched = MISMATCH.reduce((acc, name) => acc + d(name), 0);
  if (unmatched > 0) notes.push(`unmatched replies ${unmatched}`);
  if (idsExhausted > 0) notes.push(`ids exhausted ${idsExhausted}`);
  if (lag > 0.1) notes.push(`send lag ${(lag * 1000).toFixed(0)} ms`);
  // (with interval > 1 s a round's sends are bunched in its first 90 %, so scrapes that do not
  // fall on round boundaries see a different rate: compare only at interval 1 s)
  if (o.plan.intervalS === 1 && Math.abs(toolRate - achieved) > 0.05 * achieved) notes.push(`own counter ${toolRate.toFixed(0)}/s`);
  notes.push(...windowNotes(m.win));
  const fields = { toolRate, sent, lost, lossPct, indeterminate, sendErrors, captureDrops: d(METRICS.capDrop), idsExhausted, sendLagS: lag };
  return { fields, reasons, notes };
}

export async function runWireprobeStep(lab: Lab, o: WireprobeStepOptions): Promise<StepResult> {
  const params = `nb_packets ${o.plan.nbPackets}, interval ${o.plan.intervalS} s, timeout 1`;
  const windowS = alignedWindow(o.windowS, o.plan.intervalS);
  const base = { tool: 'wireprobe' as const, type: o.type, kind: o.kind, targets: o.addresses.length, requested: o.plan.requested, params };
  const failed = (note: string): StepResult => ({ ...base, ...windowFields(undefined), sent: 0, lost: 0, lossPct: Number.NaN, pass: o.kind === 'sweep' ? false : undefined, note });

  let wp: WireprobeHandle;
  try {
    wp = await startWireprobe(lab, wireprobeConfig(o.addresses, o.plan, o.type), { readyTimeoutMs: 180_000 });
  } catch (e) {
    o.log(`wireprobe did not start: ${e instanceof Error ? e.message : String(e)}`);
    return failed('did not start');
  }
  try {
    // `ip netns exec` execs node in place; look below it anyway in case a wrapper forked.
    const pid = (await findProcess(wp.process.pid, 'node', 2000)) ?? wp.process.pid;
    if (commOf(pid) !== 'node') o.log(`warning: measuring PID ${pid} (${commOf(pid)}), not a node process`);
    if (!(await aliveAfter(wp, o.warmupS * 1000))) {
      o.log(`wireprobe exited (${wp.process.exitCode}) during warm-up; logs (tail):\n${wp.logs().slice(-4000)}`);
      return failed(`exited ${wp.process.exitCode} in warm-up`);
    }
    const a = await scrapeToFile(lab, wp);
    await aliveAfter(wp, o.settleS * 1000);
    const win = await measureWindow(o.wire, processTree(pid), windowS);
    let b: Scrape;
    try {
      b = await scrapeToFile(lab, wp);
    } catch (e) {
      o.log(`second scrape failed: ${e instanceof Error ? e.message : String(e)}\nlogs (tail):\n${wp.logs().slice(-4000)}`);
      return failed('scrape failed');
    }
    if (o.after !== undefined) await o.after(wp, pid, win);
    const { fields, reasons, notes } = evaluate(o, { a, b, win, exitCode: wp.process.exitCode });
    if (reasons.length > 0) o.log(`step failed (${reasons.join(', ')}); wireprobe logs (tail):\n${wp.logs().slice(-2000)}`);
    return {
      ...base,
      ...windowFields(win),
      ...fields,
      pass: o.kind === 'sweep' ? reasons.length === 0 : undefined,
      note: notes.join('; '),
    };
  } catch (e) {
    o.log(`wireprobe step error: ${e instanceof Error ? e.message : String(e)}\nlogs (tail):\n${wp.logs().slice(-4000)}`);
    return failed(`error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 60) ?? ''}`);
  } finally {
    const code = await wp.stop();
    if (code !== 0 && code !== 143) o.log(`wireprobe exited with ${code} when stopped`);
  }
}

/**
 * CPU seconds wireprobe spends on one GET /metrics: ticks around the scrape (plus 1 s for
 * trailing work) minus the probing load measured in the window before (`baselineCores`). The
 * scraping client runs in its own process and is not counted.
 */
export async function measureScrapeCost(lab: Lab, wp: WireprobeHandle, pid: number, baselineCores: number, targets: number, repeats = 3): Promise<ScrapeCost> {
  const hz = clockTicksPerSecond();
  const one = async (encoding: ScrapeEncoding): Promise<ScrapeEncodingCost> => {
    const samples: number[] = [];
    let bytes = 0;
    let wireBytes = 0;
    const walls: number[] = [];
    for (let i = 0; i < repeats; i++) {
      await sleep(500);
      const c0 = cpuTicks(pid);
      const t0 = performance.now();
      const s = await scrapeToFile(lab, wp, 20_000, encoding);
      await sleep(1000);
      const c1 = cpuTicks(pid);
      const elapsedS = (performance.now() - t0) / 1000;
      if (c0 === undefined || c1 === undefined) break;
      bytes = s.bytes;
      wireBytes = s.wireBytes;
      walls.push(s.wallMs);
      samples.push((c1 - c0) / hz - baselineCores * elapsedS);
    }
    const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
    return { cpuSeconds: med(samples), samples, bytes, wireBytes, wallMs: med(walls) };
  };
  const plain = await one('identity');
  const gzip = await one('gzip');
  return { targets, cpuSeconds: plain.cpuSeconds, bytes: plain.bytes, samples: plain.samples, plain, gzip };
}
