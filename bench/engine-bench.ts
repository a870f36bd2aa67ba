// wireprobe engine benchmark against fping, in one throw-away namespace lab (see bench/README.md).
//   node dist/bench/engine-bench.js [--quick] [--targets 100,1000,10000] [--rates 5000,20000,...] [--json FILE]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, labIpv4Targets, requireRoot, requireTools, type Lab } from '../test/lab/index.js';
import { runFpingStep } from './fping-runner.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { formatTable, summarize, type ScrapeCost, type StepResult } from './report.js';
import { measureScrapeCost, planRate, runWireprobeStep } from './wireprobe-runner.js';

const USAGE = `usage: node dist/bench/engine-bench.js [options]   (root; creates namespaces wpt…)
  --quick                 1000 targets, 2 rate steps per tool, short low-rate line
  --targets LIST          target counts (default 100,1000,10000)
  --rates LIST            requested probes/s ladder, both tools (default 5000,20000,50000,100000,150000)
  --warmup S / --window S wireprobe warm-up / measured window per step (default 4 / 12)
  --settle S              wireprobe: pause between the first scrape and the window (default 2)
  --fping-warmup S        fping warm-up per step (default 2)
  --refine N              after the first failing step, try up to N rates between it and the last pass (default 1)
  --lowrate-targets N     targets of the low-rate line (default 10000; 1 packet / 10 s each)
  --lowrate-warmup S / --lowrate-window S   (default 30 / 60)
  --skip LIST             any of: wireprobe, fping, sweep, lowrate
  --json FILE             also write every row and the summary as JSON
  --max-minutes M         hard bound of the whole run (default 20; 5 with --quick)`;

interface Options {
  targets: number[];
  rates: number[];
  warmupS: number;
  windowS: number;
  settleS: number;
  fpingWarmupS: number;
  refine: number;
  lowTargets: number;
  lowWarmupS: number;
  lowWindowS: number;
  skip: Set<string>;
  json: string | undefined;
  maxMinutes: number;
}

function numberList(text: string, what: string): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`--${what}: expected positive numbers, got ${text}`);
  return out;
}

function positive(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${what}: expected a non-negative number, got ${text}`);
  return v;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' }, help: { type: 'boolean' }, targets: { type: 'string' }, rates: { type: 'string' },
      warmup: { type: 'string' }, window: { type: 'string' }, settle: { type: 'string' }, 'fping-warmup': { type: 'string' }, refine: { type: 'string' },
      'lowrate-targets': { type: 'string' }, 'lowrate-warmup': { type: 'string' }, 'lowrate-window': { type: 'string' },
      skip: { type: 'string' }, json: { type: 'string' }, 'max-minutes': { type: 'string' },
    },
  });
  if (values.help === true) return undefined;
  const quick = values.quick === true;
  const targets = values.targets !== undefined ? numberList(values.targets, 'targets') : quick ? [1000] : [100, 1000, 10_000];
  if (targets.some((t) => !Number.isInteger(t) || t > 256 * 254)) throw new Error('--targets: integers up to 65024');
  const rates = values.rates !== undefined ? numberList(values.rates, 'rates') : quick ? [5000, 20_000] : [5000, 20_000, 50_000, 100_000, 150_000];
  return {
    targets,
    rates: [...rates].sort((a, b) => a - b),
    warmupS: positive(values.warmup, 4, 'warmup'),
    windowS: Math.max(1, positive(values.window, quick ? 8 : 12, 'window')),
    settleS: positive(values.settle, 2, 'settle'),
    fpingWarmupS: positive(values['fping-warmup'], 2, 'fping-warmup'),
    refine: Math.floor(positive(values.refine, quick ? 0 : 1, 'refine')),
    lowTargets: Math.floor(positive(values['lowrate-targets'], quick ? 1000 : 10_000, 'lowrate-targets')),
    lowWarmupS: positive(values['lowrate-warmup'], quick ? 5 : 30, 'lowrate-warmup'),
    lowWindowS: Math.max(10, positive(values['lowrate-window'], quick ? 10 : 60, 'lowrate-window')),
    skip: new Set((values.skip ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')),
    json: values.json,
    maxMinutes: positive(values['max-minutes'], quick ? 5 : 20, 'max-minutes'),
  };
}

const started = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
};

/** A rate between a passing and a failing one, rounded to two significant digits. */
function between(lo: number, hi: number): number | undefined {
  const mid = Math.sqrt(lo * hi);
  const mag = 10 ** Math.max(0, Math.floor(Math.log10(mid)) - 1);
  const r = Math.round(mid / mag) * mag;
  return r > lo && r < hi ? r : undefined;
}

/**
 * Steps up the ladder, stops at the first failing step, then bisects (geometrically) up to `refine`
 * times between the last passing and the first failing rate.
 */
async function sweep(run: (rate: number) => Promise<StepResult>, ladder: readonly number[], refine: number): Promise<StepResult[]> {
  const out: StepResult[] = [];
  let lo: number | undefined;
  let hi: number | undefined;
  for (const rate of ladder) {
    const r = await run(rate);
    out.push(r);
    if (r.pass !== true) {
      hi = r.requested;
      break;
    }
    lo = r.requested;
  }
  for (let i = 0; i < refine && lo !== undefined && hi !== undefined; i++) {
    const mid = between(lo, hi);
    if (mid === undefined) break;
    const r = await run(mid);
    out.push(r);
    if (r.pass === true) lo = r.requested;
    else hi = r.requested;
  }
  return out;
}

function describeRow(r: StepResult): string {
  const f = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
  return (
    `${r.tool} ${r.targets} targets ${r.requested}/s (${r.params}): achieved ${f(r.achieved)}/s, loss ${f(r.lossPct, 3)} % ` +
    `(${r.lost}/${r.sent}), CPU ${f(r.cpuMsPer1000, 1)} ms/1000, ${f(r.corePct, 1)} % core, RSS ${f(r.peakRssMb, 1)} MB, ` +
    `pass ${r.pass === undefined ? '—' : r.pass ? 'yes' : 'NO'}${r.note === '' ? '' : ` (${r.note})`}`
  );
}

function fpingVersion(): string {
  try {
    return execFileSync('fping', ['-v'], { encoding: 'utf8', timeout: 5000 }).trim().split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
}

async function runAll(lab: Lab, o: Options, results: StepResult[]): Promise<ScrapeCost | undefined> {
  const record = (r: StepResult): StepResult => {
    results.push(r);
    log(describeRow(r));
    return r;
  };
  for (const n of o.skip.has('sweep') ? [] : o.targets) {
    const addresses = labIpv4Targets(n);
    const targetsFile = join(lab.tmpDir, `targets-${n}.txt`);
    writeFileSync(targetsFile, `${addresses.join('\n')}\n`);
    if (!o.skip.has('wireprobe')) {
      const ladder = [...new Set(o.rates.map((r) => planRate(n, r).requested))];
      await sweep(
        (rate) => {
          log(`wireprobe, ${n} targets, ${rate} probes/s …`);
          return runWireprobeStep(lab, { kind: 'sweep', addresses, plan: planRate(n, rate), warmupS: o.warmupS, windowS: o.windowS, settleS: o.settleS, log }).then(record);
        },
        ladder,
        o.refine,
      );
    }
    if (!o.skip.has('fping')) {
      await sweep(
        (rate) => {
          log(`fping, ${n} targets, ${rate} probes/s …`);
          return runFpingStep(lab, { kind: 'sweep', targets: n, targetsFile, rate, warmupS: o.fpingWarmupS, windowS: o.windowS, log }).then(record);
        },
        o.rates,
        o.refine,
      );
    }
  }
  if (o.skip.has('lowrate')) return undefined;
  const n = o.lowTargets;
  const addresses = labIpv4Targets(n);
  const targetsFile = join(lab.tmpDir, `targets-${n}.txt`);
  writeFileSync(targetsFile, `${addresses.join('\n')}\n`);
  let scrape: ScrapeCost | undefined;
  if (!o.skip.has('wireprobe')) {
    log(`wireprobe low-rate line: ${n} targets × 1 packet / 10 s, ${o.lowWarmupS} s warm-up + ${o.lowWindowS} s …`);
    record(
      await runWireprobeStep(lab, {
        kind: 'low-rate', addresses, plan: { nbPackets: 1, intervalS: 10, requested: n / 10 },
        warmupS: o.lowWarmupS, windowS: o.lowWindowS, settleS: o.settleS, log,
        after: async (wp, pid, win) => {
          scrape = await measureScrapeCost(lab, wp, pid, win.cpuSeconds / win.seconds, n);
          log(`scrape cost: ${scrape.cpuSeconds.toFixed(3)} CPU s, ${scrape.bytes} bytes`);
        },
      }),
    );
  }
  if (!o.skip.has('fping')) {
    log(`fping low-rate line: ${n} targets, -l -p 10000 -i 1, ${o.lowWarmupS} s warm-up + ${o.lowWindowS} s …`);
    record(await runFpingStep(lab, { kind: 'low-rate', targets: n, targetsFile, rate: 0, warmupS: o.lowWarmupS, windowS: o.lowWindowS, log }));
  }
  return scrape;
}

async function main(): Promise<number> {
  let o: Options | undefined;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 64;
  }
  if (o === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  requireRoot();
  requireTools([{ bin: 'fping', pkg: 'fping' }, { bin: 'timeout', pkg: 'coreutils' }, { bin: 'getconf', pkg: 'libc-bin' }]);
  const lab = await createLab({ name: 'engine-bench' });
  log(`lab ${lab.probeNs} / ${lab.targetNs}; ${cpus().length} cores, kernel ${release()}, ${fpingVersion()}, CLK_TCK ${clockTicksPerSecond()}`);
  // Hard bound of the whole run: tear the lab down (processes by PID, namespaces) and exit.
  const watchdog = setTimeout(() => {
    log(`run exceeded --max-minutes ${o.maxMinutes}: destroying the lab and exiting`);
    const forced = setTimeout(() => process.exit(3), 20_000);
    void lab.destroy().finally(() => {
      clearTimeout(forced);
      process.exit(3);
    });
  }, o.maxMinutes * 60_000);
  const results: StepResult[] = [];
  let scrape: ScrapeCost | undefined;
  try {
    scrape = await runAll(lab, o, results);
  } finally {
    clearTimeout(watchdog);
    await lab.destroy();
  }
  const summary = summarize(results, o.targets, scrape);
  const text = [
    '',
    `wireprobe engine benchmark — ${new Date().toISOString()}, ${cpus().length} cores, kernel ${release()}, ${fpingVersion()}`,
    'achieved/s = echo requests leaving the probe namespace per second (veth tx) during the CPU window;',
    'CPU = utime+stime of the tool process over that window (scrapes excluded); peak RSS = VmHWM over the',
    'window (reset at its start; the peak since start, which includes one scrape for wireprobe, is in the JSON).',
    '',
    formatTable(results),
    '',
    ...summary.lines,
    '',
  ].join('\n');
  process.stdout.write(text);
  if (o.json !== undefined) {
    const meta = { date: new Date().toISOString(), cores: cpus().length, kernel: release(), fping: fpingVersion(), clkTck: clockTicksPerSecond(), options: { ...o, skip: [...o.skip] } };
    writeFileSync(o.json, `${JSON.stringify({ meta, steps: results, scrape: scrape ?? null, summary: summary.data }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    log(`wrote ${o.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`engine-bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
