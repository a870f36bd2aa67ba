// Result rows, the plain-text table and the wireprobe/fping summary.

export type Tool = 'wireprobe' | 'fping';

export interface StepResult {
  readonly tool: Tool;
  /** `sweep`: a step of the rate ladder; `low-rate`: the efficiency line (no pass/fail). */
  readonly kind: 'sweep' | 'low-rate';
  readonly targets: number;
  /** probes/s asked for (wireprobe: targets × nb_packets / interval; fping: targets × 1000 / -p). */
  readonly requested: number;
  /** How the tool was driven, e.g. `nb_packets 15, interval 1 s`. */
  readonly params: string;
  /** Echo requests per second that left the probe namespace during the CPU window (veth tx counter). */
  readonly achieved: number;
  /** The tool's own count per second (wireprobe: Δ wireprobe_probes_sent_total between scrapes), if any. */
  readonly toolRate?: number;
  /** Probes the loss figure is computed over (wireprobe: Δ Σ icmp_sent_total; fping: Σ xmt of the run). */
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

export interface ScrapeCost {
  readonly targets: number;
  readonly cpuSeconds: number;
  readonly bytes: number;
  readonly samples: readonly number[];
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);

const HEADER = ['tool', 'targets', 'requested/s', 'achieved/s', 'loss %', 'indet.', 'cap.drops', 'CPU ms/1000 probes', 'core %', 'peak RSS MB', 'pass', 'note'];

function row(s: StepResult): string[] {
  return [
    s.kind === 'low-rate' ? `${s.tool} (low-rate)` : s.tool,
    String(s.targets),
    String(s.requested),
    fmt(s.achieved),
    fmt(s.lossPct, 3),
    fmt(s.indeterminate),
    fmt(s.captureDrops),
    fmt(s.cpuMsPer1000, 1),
    fmt(s.corePct, 1),
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
      .map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
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
  const top = passing.reduce<StepResult | undefined>((b, s) => (b === undefined || s.requested > b.requested ? s : b), undefined);
  return { step: top, failed: steps.some((s) => s.pass === false) };
}

export function summarize(all: readonly StepResult[], targetCounts: readonly number[], scrape: ScrapeCost | undefined): Summary {
  const lines: string[] = [];
  const data: Record<string, unknown> = {};
  lines.push('Highest passing rate (requested → achieved probes/s; "≥" = the ladder ended before the tool failed):');
  for (const n of targetCounts) {
    for (const tool of ['wireprobe', 'fping'] as const) {
      const steps = all.filter((s) => s.kind === 'sweep' && s.tool === tool && s.targets === n);
      if (steps.length === 0) continue;
      const b = best(steps);
      const firstFail = steps.filter((s) => s.pass === false).sort((x, y) => x.requested - y.requested)[0];
      const text =
        b.step === undefined
          ? 'none passed'
          : `${b.failed ? '' : '≥ '}${b.step.requested} → ${fmt(b.step.achieved)}/s` +
            (firstFail === undefined ? '' : `; failed at ${firstFail.requested}/s (${firstFail.note || 'criteria'})`);
      lines.push(`  ${tool.padEnd(9)} ${String(n).padStart(6)} targets: ${text}`);
      data[`max_${tool}_${n}`] = b.step?.requested ?? null;
    }
  }
  lines.push('Ratios wireprobe / fping (same run, same targets):');
  for (const n of targetCounts) {
    const wp = all.filter((s) => s.kind === 'sweep' && s.tool === 'wireprobe' && s.targets === n);
    const fp = all.filter((s) => s.kind === 'sweep' && s.tool === 'fping' && s.targets === n);
    if (wp.length === 0 || fp.length === 0) continue;
    const bw = best(wp);
    const bf = best(fp);
    const maxRatio =
      bw.step !== undefined && bf.step !== undefined
        ? `${bw.failed ? '' : '≥ '}${ratio(bw.step.achieved, bf.step.achieved)}`
        : '—';
    const common = wp
      .filter((w) => w.pass === true && fp.some((f) => f.pass === true && f.requested === w.requested))
      .sort((a, b) => b.requested - a.requested)[0];
    const f = common === undefined ? undefined : fp.find((x) => x.pass === true && x.requested === common.requested);
    let same = 'no rate passed by both';
    if (common !== undefined && f !== undefined) {
      same =
        `at ${common.requested}/s: CPU per probe ${ratio(common.cpuMsPer1000, f.cpuMsPer1000)} ` +
        `(${fmt(common.cpuMsPer1000, 1)} vs ${fmt(f.cpuMsPer1000, 1)} ms/1000), ` +
        `RSS ${ratio(common.peakRssMb, f.peakRssMb)} (${fmt(common.peakRssMb, 1)} vs ${fmt(f.peakRssMb, 1)} MB)`;
      data[`cpu_ratio_${n}`] = common.cpuMsPer1000 / f.cpuMsPer1000;
      data[`rss_ratio_${n}`] = common.peakRssMb / f.peakRssMb;
    }
    const atMax =
      bw.step !== undefined && bf.step !== undefined
        ? `; each at its max: CPU per probe ${ratio(bw.step.cpuMsPer1000, bf.step.cpuMsPer1000)}, RSS ${ratio(bw.step.peakRssMb, bf.step.peakRssMb)}`
        : '';
    lines.push(`  ${String(n).padStart(6)} targets: max rate ${maxRatio}; ${same}${atMax}`);
  }
  const lw = all.find((s) => s.kind === 'low-rate' && s.tool === 'wireprobe');
  const lf = all.find((s) => s.kind === 'low-rate' && s.tool === 'fping');
  if (lw !== undefined || lf !== undefined) {
    const l = lw ?? lf;
    lines.push(`Low rate (${l?.targets} targets × 1 packet / 10 s):`);
    for (const s of [lw, lf]) {
      if (s === undefined) continue;
      lines.push(
        `  ${s.tool.padEnd(9)} ${fmt(s.corePct, 2)} % of one core, ${fmt(s.cpuMsPer1000, 1)} ms CPU/1000 probes, ` +
          `${fmt(s.achieved)} probes/s, peak RSS ${fmt(s.peakRssMb, 1)} MB in the window (${fmt(s.rssEndMb, 1)} MB at its end, ${fmt(s.peakSinceStartMb, 1)} MB since start), loss ${fmt(s.lossPct, 3)} %`,
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
    lines.push(
      `Scrape cost (wireprobe, ${scrape.targets} targets): ${fmt(scrape.cpuSeconds, 3)} CPU s per GET /metrics ` +
        `(median of ${scrape.samples.length}: ${scrape.samples.map((v) => v.toFixed(3)).join(', ')}), ${scrape.bytes} bytes`,
    );
  }
  return { lines, data };
}
