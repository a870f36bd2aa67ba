// Result rows, the plain-text table and the wireprobe/peer summary (fping for ICMP, hping3 for TCP/UDP).
import { BENCH_TYPES, type BenchType } from './probe-types.js';
import type { WindowSample } from './proc-stats.js';

export type Tool = 'wireprobe' | 'fping' | 'hping3';

export interface StepResult {
  readonly tool: Tool;
  readonly type: BenchType;
  /** `sweep`: a step of the rate ladder; `low-rate`: the efficiency line (no pass/fail). */
  readonly kind: 'sweep' | 'low-rate';
  readonly targets: number;
  /** probes/s asked for (wireprobe: targets × nb_packets / interval; fping: targets × 1000 / -p). */
  readonly requested: number;
  /** How the tool was driven, e.g. `nb_packets 15, interval 1 s`. */
  readonly params: string;
  /** Probes per second that reached the targets during the CPU window (nft counter in the target namespace). */
  readonly achieved: number;
  /** The targets' answers during the window (nft counter), and the probes they answer. */
  readonly wireReplies?: number;
  readonly wireProbes?: number;
  /** Busy CPU of the whole machine during the window, in cores: the tool, the lab's kernel work and everyone else. */
  readonly machineBusyCores?: number;
  /** Times the tool's threads were put on a CPU per second during the window (proc-stats.ts runSlices). */
  readonly wakeupsPerS?: number;
  /** The tool's own count per second (wireprobe: Δ wireprobe_probes_sent_total between scrapes), if any. */
  readonly toolRate?: number;
  /** Probes the loss figure is computed over (wireprobe: Δ Σ <type>_sent_total; fping, hping3: Σ transmitted over the run). */
  readonly sent: number;
  readonly lost: number;
  readonly lossPct: number;
  readonly indeterminate?: number;
  readonly sendErrors?: number;
  readonly captureDrops?: number;
  readonly idsExhausted?: number;
  readonly sendLagS?: number;
  readonly windowSeconds: number;
  readonly cpuSeconds: number;
  readonly cpuMsPer1000: number;
  readonly corePct: number;
  readonly peakRssMb: number;
  /** VmRSS at the window end. */
  readonly rssEndMb: number;
  /** Peak since the process started (start-up, warm-up, the scrape before the window, the window). */
  readonly peakSinceStartMb: number;
  /** undefined for the low-rate line. */
  readonly pass: boolean | undefined;
  readonly note: string;
}

/** What every tool's row takes from its measured window (NaN when there was none). */
export type WindowFields = Pick<
  StepResult,
  'achieved' | 'wireProbes' | 'wireReplies' | 'machineBusyCores' | 'wakeupsPerS' | 'windowSeconds' | 'cpuSeconds' | 'cpuMsPer1000' | 'corePct' | 'peakRssMb' | 'rssEndMb' | 'peakSinceStartMb'
>;

export function windowFields(win: WindowSample | undefined): WindowFields {
  if (win === undefined || !(win.seconds > 0)) {
    return {
      achieved: Number.NaN, windowSeconds: 0, cpuSeconds: Number.NaN, cpuMsPer1000: Number.NaN, corePct: Number.NaN,
      peakRssMb: Number.NaN, rssEndMb: Number.NaN, peakSinceStartMb: Number.NaN,
    };
  }
  return {
    achieved: win.wirePackets / win.seconds,
    wireProbes: win.wirePackets,
    wireReplies: win.wireReplies,
    machineBusyCores: win.machineBusyCores,
    wakeupsPerS: win.wakeupsPerS,
    windowSeconds: win.seconds,
    cpuSeconds: win.cpuSeconds,
    cpuMsPer1000: (1000 * win.cpuSeconds) / (win.wirePackets / 1000),
    corePct: (100 * win.cpuSeconds) / win.seconds,
    peakRssMb: win.peakRssMb,
    rssEndMb: win.rssEndMb,
    peakSinceStartMb: Math.max(win.peakRssMb, win.peakBeforeMb),
  };
}

/** Notes about the window itself: the RSS peak, drops on the way back, probes the targets did not answer. */
export function windowNotes(win: WindowSample | undefined): string[] {
  if (win === undefined) return [];
  const notes: string[] = [];
  if (!win.peakReset) notes.push('VmHWM not reset: peak since start');
  if (win.wireRxDropped > 0) notes.push(`veth rx drops ${win.wireRxDropped}`);
  if (win.wirePackets > 0 && win.wireReplies < 0.999 * win.wirePackets) notes.push(`targets answered ${((100 * win.wireReplies) / win.wirePackets).toFixed(2)} % on the wire`);
  return notes;
}

export interface ScrapeEncodingCost {
  /** median CPU seconds of wireprobe per GET /metrics */
  readonly cpuSeconds: number;
  readonly samples: readonly number[];
  /** exposition text bytes, and response body bytes */
  readonly bytes: number;
  readonly wireBytes: number;
  /** median wall time of the request seen by the client (ms; its process start included) */
  readonly wallMs: number;
}

export interface ScrapeCost {
  readonly targets: number;
  /** the plain-text scrape's (as before gzip existed) */
  readonly cpuSeconds: number;
  readonly bytes: number;
  readonly samples: readonly number[];
  readonly plain: ScrapeEncodingCost;
  readonly gzip: ScrapeEncodingCost;
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);

const HEADER = ['tool', 'type', 'targets', 'requested/s', 'achieved/s', 'loss %', 'indet.', 'cap.drops', 'CPU ms/1000 probes', 'core %', 'machine cores', 'peak RSS MB', 'pass', 'note'];

function row(s: StepResult): string[] {
  return [
    s.kind === 'low-rate' ? `${s.tool} (low-rate)` : s.tool,
    s.type,
    String(s.targets),
    String(s.requested),
    fmt(s.achieved),
    fmt(s.lossPct, 3),
    fmt(s.indeterminate),
    fmt(s.captureDrops),
    fmt(s.cpuMsPer1000, 1),
    fmt(s.corePct, 1),
    fmt(s.machineBusyCores, 2),
    fmt(s.peakRssMb, 1),
    s.pass === undefined ? '—' : s.pass ? 'yes' : 'NO',
    s.note,
  ];
}

/** Plain-text table, columns padded; numbers right-aligned. */
export function formatTable(steps: readonly StepResult[]): string {
  const rows = [HEADER, ...steps.map(row)];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c <= 1 || c === r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join(' | ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(HEADER), sep, ...rows.slice(1).map(line)].join('\n');
}

const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

export interface Summary {
  readonly lines: string[];
  readonly data: Record<string, unknown>;
}

function best(steps: readonly StepResult[]): { step: StepResult | undefined; failed: boolean } {
  const passing = steps.filter((s) => s.pass === true);
  const top = passing.reduce<StepResult | undefined>((b, s) => (b === undefined || s.achieved > b.achieved ? s : b), undefined);
  return { step: top, failed: steps.some((s) => s.pass === false) };
}

function maxRateLines(all: readonly StepResult[], type: BenchType, n: number, data: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const tool of ['wireprobe', BENCH_TYPES[type].peer] as const) {
    const steps = all.filter((s) => s.kind === 'sweep' && s.type === type && s.tool === tool && s.targets === n);
    if (steps.length === 0) continue;
    const b = best(steps);
    const firstFail = steps.filter((s) => s.pass === false).sort((x, y) => x.requested - y.requested)[0];
    const text =
      b.step === undefined
        ? 'none passed'
        : `${b.failed ? '' : '≥ '}${b.step.requested} → ${fmt(b.step.achieved)}/s, loss ${fmt(b.step.lossPct, 3)} %, ` +
          `${fmt(b.step.cpuMsPer1000, 1)} ms CPU/1000, RSS ${fmt(b.step.peakRssMb, 1)} MB` +
          (firstFail === undefined ? '' : `; failed at ${firstFail.requested}/s (${firstFail.note || 'criteria'})`);
    lines.push(`  ${type.padEnd(14)} ${tool.padEnd(9)} ${String(n).padStart(6)} targets: ${text}`);
    data[`max_${type}_${tool}_${n}`] = b.step?.requested ?? null;
  }
  return lines;
}

/**
 * The pair compared at (nearly) the same load: the peer's fastest passing step for which wireprobe
 * passed a step within 10 % of its achieved rate (the peers' achieved rates are what counts: hping3's
 * requested rate is nominal); failing that, wireprobe's passing step nearest to the peer's best.
 */
function comparable(wp: readonly StepResult[], peer: readonly StepResult[], peerBest: StepResult | undefined): [StepResult | undefined, StepResult | undefined] {
  const passing = wp.filter((w) => w.pass === true);
  const nearest = (rate: number): StepResult | undefined =>
    passing.reduce<StepResult | undefined>((b, w) => (b === undefined || Math.abs(Math.log(w.achieved / rate)) < Math.abs(Math.log(b.achieved / rate)) ? w : b), undefined);
  for (const f of peer.filter((x) => x.pass === true).sort((x, y) => y.achieved - x.achieved)) {
    const w = nearest(f.achieved);
    if (w !== undefined && Math.abs(Math.log(w.achieved / f.achieved)) <= Math.log(1.1)) return [w, f];
  }
  return peerBest === undefined ? [undefined, undefined] : [nearest(peerBest.achieved), peerBest];
}

function ratioLine(all: readonly StepResult[], type: BenchType, n: number, data: Record<string, unknown>): string | undefined {
  const peer = BENCH_TYPES[type].peer;
  const wp = all.filter((s) => s.kind === 'sweep' && s.type === type && s.tool === 'wireprobe' && s.targets === n);
  const fp = all.filter((s) => s.kind === 'sweep' && s.type === type && s.tool === peer && s.targets === n);
  if (wp.length === 0 || fp.length === 0) return undefined;
  const bw = best(wp);
  const bf = best(fp);
  const maxRatio = bw.step !== undefined && bf.step !== undefined ? `${bw.failed ? '' : '≥ '}${ratio(bw.step.achieved, bf.step.achieved)}` : '—';
  const [common, f] = comparable(wp, fp, bf.step);
  let same = 'no rate passed by both';
  const key = `${type}_${n}`;
  if (common !== undefined && f !== undefined) {
    same =
      `at ${fmt(common.achieved)} vs ${fmt(f.achieved)} probes/s: CPU per probe ${ratio(common.cpuMsPer1000, f.cpuMsPer1000)} ` +
      `(${fmt(common.cpuMsPer1000, 1)} vs ${fmt(f.cpuMsPer1000, 1)} ms/1000), ` +
      `RSS ${ratio(common.peakRssMb, f.peakRssMb)} (${fmt(common.peakRssMb, 1)} vs ${fmt(f.peakRssMb, 1)} MB)`;
    data[`cpu_ratio_${key}`] = common.cpuMsPer1000 / f.cpuMsPer1000;
    data[`rss_ratio_${key}`] = common.peakRssMb / f.peakRssMb;
  }
  const atMax =
    bw.step !== undefined && bf.step !== undefined
      ? `; each at its max: CPU per probe ${ratio(bw.step.cpuMsPer1000, bf.step.cpuMsPer1000)}, RSS ${ratio(bw.step.peakRssMb, bf.step.peakRssMb)}`
      : '';
  return `  ${type.padEnd(14)} ${String(n).padStart(6)} targets: max rate ${maxRatio}; ${same}${atMax}`;
}

/** The lab drops nothing: the targets' answers over the probes that reached them, over every window. */
function wireLine(all: readonly StepResult[]): string | undefined {
  const steps = all.filter((s) => s.wireProbes !== undefined && s.wireProbes > 0 && s.wireReplies !== undefined);
  if (steps.length === 0) return undefined;
  const pct = (s: StepResult): number => (100 * (s.wireReplies ?? 0)) / (s.wireProbes ?? 1);
  const worst = steps.reduce((w, s) => (pct(s) < pct(w) ? s : w));
  const probes = steps.reduce((acc, s) => acc + (s.wireProbes ?? 0), 0);
  const replies = steps.reduce((acc, s) => acc + (s.wireReplies ?? 0), 0);
  return (
    `Wire (nft counters in the target namespace, CPU windows of all ${steps.length} steps): ${replies} answers to ${probes} probes ` +
    `(${fmt((100 * replies) / probes, 3)} %); lowest step: ${fmt(pct(worst), 3)} % (${worst.tool} ${worst.type} ${worst.targets} targets ${worst.requested}/s)`
  );
}

export function summarize(all: readonly StepResult[], targetCounts: readonly number[], types: readonly BenchType[], scrape: ScrapeCost | undefined): Summary {
  const lines: string[] = [];
  const data: Record<string, unknown> = {};
  const pairs = types.flatMap((type) => targetCounts.map((n) => [type, n] as const));
  const maxLines = pairs.flatMap(([type, n]) => maxRateLines(all, type, n, data));
  if (maxLines.length > 0) {
    lines.push('Highest passing rate (requested → achieved probes/s, with loss, CPU and RSS there; "≥" = the ladder ended before the tool failed):', ...maxLines);
  }
  const ratioLines = pairs.map(([type, n]) => ratioLine(all, type, n, data)).filter((l): l is string => l !== undefined);
  if (ratioLines.length > 0) lines.push('Ratios wireprobe / peer (fping for ICMPping, hping3 for the others; same run, same lab):', ...ratioLines);
  const w = wireLine(all);
  if (w !== undefined) lines.push(w);
  const lw = all.find((s) => s.kind === 'low-rate' && s.tool === 'wireprobe');
  const lf = all.find((s) => s.kind === 'low-rate' && s.tool === 'fping');
  if (lw !== undefined || lf !== undefined) {
    const l = lw ?? lf;
    lines.push(`Low rate (${l?.targets} targets × 1 packet / 10 s):`);
    for (const s of [lw, lf]) {
      if (s === undefined) continue;
      lines.push(
        `  ${s.tool.padEnd(9)} ${fmt(s.corePct, 2)} % of one core, ${fmt(s.cpuMsPer1000, 1)} ms CPU/1000 probes, ` +
          `${fmt(s.wakeupsPerS)} wake-ups/s, ${fmt(s.achieved)} probes/s, peak RSS ${fmt(s.peakRssMb, 1)} MB in the window (${fmt(s.rssEndMb, 1)} MB at its end, ${fmt(s.peakSinceStartMb, 1)} MB since start), loss ${fmt(s.lossPct, 3)} %`,
      );
    }
    if (lw !== undefined && lf !== undefined) {
      lines.push(
        `  ratio     core % ${ratio(lw.corePct, lf.corePct)}, CPU per probe ${ratio(lw.cpuMsPer1000, lf.cpuMsPer1000)}, RSS ${ratio(lw.peakRssMb, lf.peakRssMb)}`,
      );
      data['lowrate_core_ratio'] = lw.corePct / lf.corePct;
      data['lowrate_cpu_per_probe_ratio'] = lw.cpuMsPer1000 / lf.cpuMsPer1000;
      data['lowrate_rss_ratio'] = lw.peakRssMb / lf.peakRssMb;
    }
  }
  if (scrape !== undefined) {
    const one = (what: string, c: ScrapeEncodingCost): string =>
      `  ${what}: ${fmt(c.cpuSeconds, 3)} CPU s per GET /metrics (median of ${c.samples.length}: ${c.samples.map((v) => v.toFixed(3)).join(', ')}), ` +
      `${c.bytes} bytes of text, ${c.wireBytes} bytes sent, ${fmt(c.wallMs)} ms wall (client process start included)`;
    lines.push(`Scrape cost (wireprobe, ${scrape.targets} targets):`, one('plain', scrape.plain), one('gzip ', scrape.gzip));
  }
  return { lines, data };
}
