// Memory and scrape-cost benchmark (issue 14): wireprobe with N targets of each type at 1 probe / 10 s
// in one throw-away namespace lab, fping on the same targets in the same run (see bench/README.md,
// "Memory").
//   node dist/bench/memory-bench.js [--types ICMPping,TCPsyn,UDPunreachable] [--targets 10000] [--node-options "…"]
//     [--main /other/dist/src/main.js,dist/src/main.js --repeat 2]
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { labIpv4Targets, PACKAGED_NODE_FLAGS, packagedEnv, requireRoot, requireTools, sleep, startWireprobe, WIREPROBE_MAIN, type Lab, type WireprobeHandle } from '../test/lab/index.js';
import { runFpingLowRate } from './fping-runner.js';
import { installHeapProbe, majorGcsBetween, readHeapProbe, requestHeapSnapshot } from './heap-probe.js';
import { commandLine, positiveNumber, runMain, withLab } from './options.js';
import { BENCH_TYPES, installWitness, parseBenchTypes, witnessFor, type BenchType } from './probe-types.js';
import { clockTicksPerSecond, cpuTicks, findProcess, peakRssKb, rssKb, rssSplitKb, threadCount } from './proc-stats.js';
import { scrapeToFile } from './scrape.js';
import { measureScrapeCost, wireprobeConfig } from './wireprobe-runner.js';

/** the V8 flags of the packaged service (packaging/wireprobe.service, Dockerfile, `make run`) */

const USAGE = `usage: node dist/bench/memory-bench.js [options]   (root; creates namespaces wpt…)
  --types LIST         probe types (default ICMPping,TCPsyn,UDPunreachable)
  --main LIST          comma-separated wireprobe entry points (main.js) to compare (default: this build's)
  --repeat N           runs of each build × type, the builds alternating (default 1)
  --targets N          targets per type, 1 probe / 10 s each (default 10000)
  --warmup S           seconds from start before the steady window (default 30)
  --window S           steady window: RSS sampled every 500 ms, CPU over it (default 60)
  --node-options=TEXT  NODE_OPTIONS of wireprobe (default: the packaged flags, "${PACKAGED_NODE_FLAGS.join(' ')}")
  --snapshot-dir DIR   write a heap snapshot of each wireprobe's main thread at the window end into DIR
  --scraped-window S   after the scrape cost: RSS sampled every 500 ms over S seconds while a gzip
                       scrape runs every --scrape-every seconds, as Prometheus would (default 90; 0: off)
  --scrape-every S     (default 15)
  --skip LIST          any of: fping, scrape
  --max-minutes M      hard bound of the whole run (default 15)`;

const started = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[memory-bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
};
const mb = (kb: number): number => (kb * 1024) / 1e6;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface Options {
  types: BenchType[];
  mains: string[];
  repeat: number;
  targets: number;
  warmupS: number;
  windowS: number;
  nodeOptions: string;
  snapshotDir: string | undefined;
  scrapedWindowS: number;
  scrapeEveryS: number;
  skip: Set<string>;
  maxMinutes: number;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      types: { type: 'string' }, main: { type: 'string' }, repeat: { type: 'string' }, targets: { type: 'string' }, warmup: { type: 'string' }, window: { type: 'string' },
      'node-options': { type: 'string' }, 'snapshot-dir': { type: 'string' }, 'scraped-window': { type: 'string' }, 'scrape-every': { type: 'string' }, skip: { type: 'string' }, 'max-minutes': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const num = positiveNumber;
  return {
    types: parseBenchTypes(values.types ?? 'ICMPping,TCPsyn,UDPunreachable'),
    mains: (values.main ?? WIREPROBE_MAIN).split(',').filter((s) => s !== '').map((m) => resolve(m)),
    repeat: Math.floor(num(values.repeat, 1, 'repeat')),
    targets: Math.floor(num(values.targets, 10_000, 'targets')),
    warmupS: num(values.warmup, 30, 'warmup'),
    windowS: num(values.window, 60, 'window'),
    nodeOptions: values['node-options'] ?? PACKAGED_NODE_FLAGS.join(' '),
    snapshotDir: values['snapshot-dir'],
    scrapedWindowS: values['scraped-window'] === '0' ? 0 : num(values['scraped-window'], 90, 'scraped-window'),
    scrapeEveryS: num(values['scrape-every'], 15, 'scrape-every'),
    skip: new Set((values.skip ?? '').split(',').filter((s) => s !== '')),
    maxMinutes: num(values['max-minutes'], 15, 'max-minutes'),
  };
}

interface Row {
  tool: string;
  type: string;
  steadyMb: number;
  maxMb: number;
  peakMb: number;
  corePct: number;
  /** RssAnon / RssFile at the window end */
  anonMb: number;
  fileMb: number;
  /** the main thread's V8 heap at the window end (the preloaded heap probe's last sample) */
  heapUsedMb: number;
  heapTotalMb: number;
  /** threads at the window end (a worker thread of the pool shows here) */
  threads: number;
  /** the machine's 1-minute load average at the window end */
  load: number;
  note: string;
}

interface ScrapeRow {
  type: string;
  plainCpuMs: number;
  gzipCpuMs: number;
  bytes: number;
  gzipBytes: number;
  healthyMs: number;
  metricsWallMs: number;
}

/** Samples VmRSS every 500 ms for `seconds`; CPU ticks at both ends. */
async function sampleWindow(pid: number, seconds: number): Promise<{ rssKb: number[]; corePct: number }> {
  const hz = clockTicksPerSecond();
  const c0 = cpuTicks(pid);
  const t0 = performance.now();
  const out: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(500);
    const r = rssKb(pid);
    if (r === undefined) break;
    out.push(r);
  }
  const c1 = cpuTicks(pid);
  const s = (performance.now() - t0) / 1000;
  return { rssKb: out, corePct: c0 === undefined || c1 === undefined ? Number.NaN : (100 * (c1 - c0)) / hz / s };
}

/** RSS every 500 ms over `seconds` while a gzip scrape starts every `everyS` seconds (the first at once); CPU over the window. */
async function scrapedWindow(lab: Lab, wp: WireprobeHandle, pid: number, seconds: number, everyS: number): Promise<{ rssKb: number[]; corePct: number }> {
  let stop = false;
  const failed: { error?: Error } = {};
  const t0 = performance.now();
  const scraper = (async (): Promise<void> => {
    for (let k = 1; !stop; k++) {
      await scrapeToFile(lab, wp, 20_000, 'gzip');
      while (!stop && performance.now() - t0 < k * everyS * 1000) await sleep(100);
    }
  })().catch((e: unknown) => {
    failed.error = e instanceof Error ? e : new Error(String(e));
  });
  const window = await sampleWindow(pid, seconds);
  stop = true;
  await scraper;
  if (failed.error !== undefined) throw failed.error;
  return window;
}

/** GET /-/healthy while a plain /metrics scrape runs: the wall time of each, as seen from the probe namespace. */
async function healthyDuringScrape(lab: Lab, wp: WireprobeHandle): Promise<{ healthyMs: number; metricsWallMs: number }> {
  const scrape = scrapeToFile(lab, wp, 20_000, 'identity');
  await sleep(20);
  const t0 = performance.now();
  const h = await lab.fetchText(`${wp.baseUrl}/-/healthy`, { timeoutMs: 10_000 });
  const healthyMs = performance.now() - t0;
  const s = await scrape;
  if (h.status !== 200) throw new Error(`/-/healthy: ${h.status}`);
  return { healthyMs, metricsWallMs: s.wallMs };
}

/** Waits until `path` exists and its size stopped growing. */
async function waitForSnapshot(path: string): Promise<boolean> {
  const deadline = performance.now() + 120_000;
  let last = -1;
  while (performance.now() < deadline) {
    await sleep(1000);
    if (!existsSync(path)) continue;
    const size = statSync(path).size;
    if (size > 0 && size === last) return true;
    last = size;
  }
  return false;
}

async function runWireprobe(lab: Lab, o: Options, run: { main: string; type: BenchType; n: number }, addresses: readonly string[], rows: Row[], scrapes: ScrapeRow[]): Promise<void> {
  const { main, type } = run;
  const base = `${type}-${o.mains.indexOf(main)}-${run.n}`;
  const probe = installHeapProbe(lab.tmpDir, base);
  const nodeOptions = `${o.nodeOptions} --import=${probe.module}`.trim();
  const config = wireprobeConfig(addresses, { nbPackets: 1, intervalS: 10, requested: addresses.length / 10 }, type);
  log(`${main}: wireprobe ${type}, ${addresses.length} targets × 1 / 10 s (run ${run.n + 1}), NODE_OPTIONS "${o.nodeOptions}" …`);
  const wp = await startWireprobe(lab, config, { main, readyTimeoutMs: 180_000, env: packagedEnv(nodeOptions) });
  try {
    const pid = (await findProcess(wp.process.pid, 'node', 2000)) ?? wp.process.pid;
    const warm = await sampleWindow(pid, o.warmupS);
    const win = await sampleWindow(pid, o.windowS);
    const peak = peakRssKb(pid) ?? Number.NaN;
    const split = rssSplitKb(pid);
    const heap = readHeapProbe(probe.file);
    const all = [...warm.rssKb, ...win.rssKb];
    rows.push({
      tool: main, type, steadyMb: mb(median(win.rssKb)), maxMb: mb(Math.max(...all)), peakMb: mb(peak), corePct: win.corePct,
      anonMb: mb(split?.anon ?? Number.NaN), fileMb: mb(split?.file ?? Number.NaN),
      heapUsedMb: (heap?.heapUsed ?? Number.NaN) / 1e6, heapTotalMb: (heap?.heapTotal ?? Number.NaN) / 1e6, threads: threadCount(pid) ?? Number.NaN, load: loadavg()[0]!,
      note: o.nodeOptions === '' ? 'no NODE_OPTIONS' : o.nodeOptions,
    });
    log(`wireprobe ${type}: steady ${mb(median(win.rssKb)).toFixed(1)} MB, VmHWM ${mb(peak).toFixed(1)} MB, heap used ${((heap?.heapUsed ?? Number.NaN) / 1e6).toFixed(1)} MB, ${win.corePct.toFixed(2)} % core`);
    if (!o.skip.has('scrape')) {
      const cost = await measureScrapeCost(lab, wp, pid, win.corePct / 100, addresses.length);
      const hz = await healthyDuringScrape(lab, wp);
      scrapes.push({
        type, plainCpuMs: cost.plain.cpuSeconds * 1000, gzipCpuMs: cost.gzip.cpuSeconds * 1000, bytes: cost.plain.bytes, gzipBytes: cost.gzip.wireBytes, ...hz,
      });
      log(`scrape ${type}: plain ${(cost.plain.cpuSeconds * 1000).toFixed(0)} CPU ms (${cost.plain.samples.map((s) => (s * 1000).toFixed(0)).join('/')}), gzip ${(cost.gzip.cpuSeconds * 1000).toFixed(0)} CPU ms; /-/healthy ${hz.healthyMs.toFixed(0)} ms during a scrape`);
      const after = readHeapProbe(probe.file);
      rows.push({
        tool: main, type: `${type} after scrapes`, steadyMb: mb(rssKb(pid) ?? Number.NaN), maxMb: Number.NaN, peakMb: mb(peakRssKb(pid) ?? Number.NaN), corePct: Number.NaN,
        anonMb: Number.NaN, fileMb: Number.NaN, heapUsedMb: (after?.heapUsed ?? Number.NaN) / 1e6, heapTotalMb: (after?.heapTotal ?? Number.NaN) / 1e6, threads: threadCount(pid) ?? Number.NaN, load: loadavg()[0]!,
        note: 'VmRSS / VmHWM after 7 scrapes',
      });
      if (o.scrapedWindowS > 0) {
        const h0 = readHeapProbe(probe.file);
        const sw = await scrapedWindow(lab, wp, pid, o.scrapedWindowS, o.scrapeEveryS);
        const h = readHeapProbe(probe.file);
        log(`wireprobe ${type} scraped window: ${majorGcsBetween(h0, h)}`);
        rows.push({
          tool: main, type: `${type} scraped`, steadyMb: mb(median(sw.rssKb)), maxMb: mb(Math.max(...sw.rssKb)), peakMb: mb(peakRssKb(pid) ?? Number.NaN), corePct: sw.corePct,
          anonMb: Number.NaN, fileMb: Number.NaN, heapUsedMb: (h?.heapUsed ?? Number.NaN) / 1e6, heapTotalMb: (h?.heapTotal ?? Number.NaN) / 1e6, threads: threadCount(pid) ?? Number.NaN, load: loadavg()[0]!,
          note: `RSS over ${o.scrapedWindowS} s with a gzip scrape every ${o.scrapeEveryS} s (median, max)`,
        });
        log(`wireprobe ${type} scraped every ${o.scrapeEveryS} s: RSS median ${mb(median(sw.rssKb)).toFixed(1)} MB, max ${mb(Math.max(...sw.rssKb)).toFixed(1)} MB, ${sw.corePct.toFixed(2)} % core`);
      }
    }
    if (o.snapshotDir !== undefined) {
      const path = join(resolve(o.snapshotDir), `${base}.heapsnapshot`);
      requestHeapSnapshot(probe.file, path);
      log(await waitForSnapshot(path) ? `heap snapshot: ${path}` : 'heap snapshot: none written within 120 s');
    }
  } finally {
    await wp.stop();
  }
}

function table(rows: readonly Row[], scrapes: readonly ScrapeRow[], o: Options): string {
  const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '—');
  const lines = [
    `${o.targets} targets × 1 probe / 10 s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    '| tool | type | steady RSS (MB, median) | max sampled RSS | VmHWM (peak since start) | RssAnon / RssFile | heap used / total | threads | CPU (% core) | load | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.tool} | ${r.type} | ${f(r.steadyMb)} | ${f(r.maxMb)} | ${f(r.peakMb)} | ${f(r.anonMb)} / ${f(r.fileMb)} | ${f(r.heapUsedMb)} / ${f(r.heapTotalMb)} | ${f(r.threads, 0)} | ${f(r.corePct, 2)} | ${f(r.load, 2)} | ${r.note} |`),
  ];
  if (scrapes.length > 0) {
    lines.push(
      '',
      '| type | scrape CPU plain (ms) | scrape CPU gzip (ms) | text bytes | gzip bytes | /-/healthy during a scrape (ms) | /metrics wall (ms) |',
      '|---|---|---|---|---|---|---|',
      ...scrapes.map((s) => `| ${s.type} | ${f(s.plainCpuMs, 0)} | ${f(s.gzipCpuMs, 0)} | ${s.bytes} | ${s.gzipBytes} | ${f(s.healthyMs, 0)} | ${f(s.metricsWallMs, 0)} |`),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const o = commandLine(parseOptions, USAGE);
  if (typeof o === 'number') return o;
  requireRoot();
  requireTools([{ bin: 'nft', pkg: 'nftables' }, { bin: 'timeout', pkg: 'coreutils' }, { bin: 'getconf', pkg: 'libc-bin' }, ...(o.skip.has('fping') ? [] : [{ bin: 'fping', pkg: 'fping' }])]);
  if (o.snapshotDir !== undefined && !existsSync(o.snapshotDir)) mkdirSync(o.snapshotDir, { recursive: true });
  const rows: Row[] = [];
  const scrapes: ScrapeRow[] = [];
  await withLab('memory-bench', o.maxMinutes, log, async (lab) => {
    await installWitness(lab);
    const addresses = labIpv4Targets(o.targets);
    for (let n = 0; n < o.repeat; n++) {
      for (const type of o.types) for (const main of o.mains) await runWireprobe(lab, o, { main, type, n }, addresses, rows, scrapes);
    }
    if (!o.skip.has('fping')) {
      log(`fping ${o.targets} targets, -l -p 10000 …`);
      const r = await runFpingLowRate(lab, addresses, { warmupS: o.warmupS, windowS: o.windowS, wire: witnessFor(lab, 'ICMPping'), log });
      rows.push({
        tool: 'fping', type: BENCH_TYPES.ICMPping.name, steadyMb: r.rssEndMb, maxMb: Number.NaN, peakMb: r.peakSinceStartMb, corePct: r.corePct,
        anonMb: Number.NaN, fileMb: Number.NaN, heapUsedMb: Number.NaN, heapTotalMb: Number.NaN, threads: Number.NaN, load: loadavg()[0]!, note: r.params,
      });
    }
  });
  process.stdout.write(`${table(rows, scrapes, o)}\n`);
  return 0;
}

runMain(main);
