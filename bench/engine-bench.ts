// wireprobe engine benchmark against fping (ICMP) and hping3 (TCP SYN, UDP), in one throw-away
// namespace lab (see bench/README.md).
//   node dist/bench/engine-bench.js [--quick] [--types ICMPping,TCPsyn,...] [--targets 100,1000,10000] [--rates 5000,20000,...] [--json FILE]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { createLab, labIpv4Targets, requireRoot, requireTools, type Lab } from '../test/lab/index.js';
import { runFpingStep } from './fping-runner.js';
import { runHping3Step } from './hping3-runner.js';
import { commandLine, parseOptions, USAGE, type Options } from './options.js';
import { BENCH_TYPES, installWitness, startListener, witnessFor, type BenchType } from './probe-types.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { formatTable, summarize, type ScrapeCost, type StepResult } from './report.js';
import { measureScrapeCost, planRate, runWireprobeStep } from './wireprobe-runner.js';

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
    `${r.tool} ${r.type} ${r.targets} targets ${r.requested}/s (${r.params}): achieved ${f(r.achieved)}/s, loss ${f(r.lossPct, 3)} % ` +
    `(${r.lost}/${r.sent}), CPU ${f(r.cpuMsPer1000, 1)} ms/1000, ${f(r.corePct, 1)} % core, RSS ${f(r.peakRssMb, 1)} MB, ` +
    `pass ${r.pass === undefined ? '—' : r.pass ? 'yes' : 'NO'}${r.note === '' ? '' : ` (${r.note})`}`
  );
}

function firstLine(bin: string, args: string[]): string {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
}

function toolVersions(o: Options): string {
  const peers = new Set(o.types.map((t) => BENCH_TYPES[t].peer));
  const out: string[] = [];
  if (peers.has('fping')) out.push(firstLine('fping', ['-v']));
  if (peers.has('hping3')) out.push(firstLine('hping3', ['-v']).replace(/\s*\(\$Id.*$/, ''));
  return out.join(', ');
}

type Record = (r: StepResult) => StepResult;

/** One target count, one probe type: wireprobe's sweep, then its peer's, on the same addresses. */
async function sweepType(lab: Lab, o: Options, n: number, type: BenchType, record: Record): Promise<void> {
  const addresses = labIpv4Targets(n);
  const wire = witnessFor(lab, type);
  const peer = BENCH_TYPES[type].peer;
  if (!o.skip.has('wireprobe')) {
    const ladder = [...new Set(o.rates.map((r) => planRate(n, r).requested))];
    await sweep(
      (rate) => {
        log(`wireprobe ${type}, ${n} targets, ${rate} probes/s …`);
        return runWireprobeStep(lab, { kind: 'sweep', type, wire, addresses, plan: planRate(n, rate), warmupS: o.warmupS, windowS: o.windowS, settleS: o.settleS, log }).then(record);
      },
      ladder,
      o.refine,
    );
  }
  if (o.skip.has(peer)) return;
  const targetsFile = join(lab.tmpDir, `targets-${n}.txt`);
  writeFileSync(targetsFile, `${addresses.join('\n')}\n`);
  await sweep(
    (rate) => {
      log(`${peer} ${type}, ${n} targets, ${rate} probes/s …`);
      const step =
        peer === 'fping'
          ? runFpingStep(lab, { kind: 'sweep', targets: n, targetsFile, rate, warmupS: o.fpingWarmupS, windowS: o.windowS, wire, log })
          : runHping3Step(lab, { type, addresses, rate, procs: o.hping3Procs, warmupS: o.hping3WarmupS, windowS: o.windowS, wire, log });
      return step.then(record);
    },
    o.rates,
    o.refine,
  );
}

/** The ICMP low-rate line (wireprobe, then fping) and wireprobe's scrape cost. */
async function lowRate(lab: Lab, o: Options, record: Record): Promise<ScrapeCost | undefined> {
  const n = o.lowTargets;
  const addresses = labIpv4Targets(n);
  const targetsFile = join(lab.tmpDir, `targets-${n}.txt`);
  writeFileSync(targetsFile, `${addresses.join('\n')}\n`);
  const wire = witnessFor(lab, 'ICMPping');
  let scrape: ScrapeCost | undefined;
  if (!o.skip.has('wireprobe')) {
    log(`wireprobe low-rate line: ${n} targets × 1 packet / 10 s, ${o.lowWarmupS} s warm-up + ${o.lowWindowS} s …`);
    record(
      await runWireprobeStep(lab, {
        kind: 'low-rate', type: 'ICMPping', wire, addresses, plan: { nbPackets: 1, intervalS: 10, requested: n / 10 },
        warmupS: o.lowWarmupS, windowS: o.lowWindowS, settleS: o.settleS, log,
        after: async (wp, pid, win) => {
          scrape = await measureScrapeCost(lab, wp, pid, win.cpuSeconds / win.seconds, n);
          log(`scrape cost: plain ${scrape.plain.cpuSeconds.toFixed(3)} CPU s, ${scrape.plain.bytes} bytes; gzip ${scrape.gzip.cpuSeconds.toFixed(3)} CPU s, ${scrape.gzip.wireBytes} bytes`);
        },
      }),
    );
  }
  if (!o.skip.has('fping')) {
    log(`fping low-rate line: ${n} targets, -l -p 10000 -i 1, ${o.lowWarmupS} s warm-up + ${o.lowWindowS} s …`);
    record(await runFpingStep(lab, { kind: 'low-rate', targets: n, targetsFile, rate: 0, warmupS: o.lowWarmupS, windowS: o.lowWindowS, wire, log }));
  }
  return scrape;
}

async function runAll(lab: Lab, o: Options, results: StepResult[]): Promise<ScrapeCost | undefined> {
  const record = (r: StepResult): StepResult => {
    results.push(r);
    log(describeRow(r));
    return r;
  };
  await installWitness(lab);
  if (o.types.includes('TCPsyn-open')) await startListener(lab, o.maxMinutes * 60 + 60);
  for (const n of o.skip.has('sweep') ? [] : o.targets) {
    for (const type of o.types) await sweepType(lab, o, n, type, record);
  }
  return o.skip.has('lowrate') || !o.types.includes('ICMPping') ? undefined : lowRate(lab, o, record);
}

function requirements(o: Options): { bin: string; pkg: string }[] {
  const peers = new Set(o.types.map((t) => BENCH_TYPES[t].peer).filter((p) => !o.skip.has(p)));
  return [
    { bin: 'nft', pkg: 'nftables' },
    { bin: 'timeout', pkg: 'coreutils' },
    { bin: 'getconf', pkg: 'libc-bin' },
    ...(peers.has('fping') ? [{ bin: 'fping', pkg: 'fping' }] : []),
    ...(peers.has('hping3') ? [{ bin: 'hping3', pkg: 'hping3' }] : []),
  ];
}

async function main(): Promise<number> {
  const o = commandLine(parseOptions, USAGE);
  if (typeof o === 'number') return o;
  requireRoot();
  requireTools(requirements(o));
  const lab = await createLab({ name: 'engine-bench' });
  const versions = toolVersions(o);
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`lab ${lab.probeNs} / ${lab.targetNs}; ${cpus().length} cores, kernel ${release()}, ${versions}, CLK_TCK ${clockTicksPerSecond()}`);
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
  const summary = summarize(results, o.targets, o.types, scrape);
  const load = `load average ${loadBefore} at the start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`;
  const text = [
    '',
    `wireprobe engine benchmark — ${new Date().toISOString()}, ${cpus().length} cores, kernel ${release()}, ${versions}; ${load}`,
    'achieved/s = probes of the type that reached the target namespace per second (nft counter there) during the',
    'CPU window; CPU = utime+stime of the tool processes over that window (scrapes excluded); peak RSS = VmHWM',
    'over the window (reset at its start; summed over hping3 processes; the peak since start, which includes one',
    'scrape for wireprobe, is in the JSON); machine cores = busy CPU of the whole machine during the window',
    '(the tool, the lab\'s kernel work and everything else running: the noise).',
    '',
    formatTable(results),
    '',
    ...summary.lines,
    '',
  ].join('\n');
  process.stdout.write(text);
  if (o.json !== undefined) {
    const meta = { date: new Date().toISOString(), load, cores: cpus().length, kernel: release(), tools: versions, clkTck: clockTicksPerSecond(), options: { ...o, skip: [...o.skip] } };
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
