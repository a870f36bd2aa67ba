// CPU of one GET /metrics at N targets, in isolation: the real catalog and HTTP app in this process
// with N ICMP targets whose series have seen rounds, scraped by curl (another process) on loopback,
// plain and gzip; this process's CPU (process.cpuUsage) is measured around each scrape, and
// GET /-/healthy is timed while a scrape runs (plain, then gzip). No probing runs, so nothing else shares the CPU.
// First, the render alone in process: the exposition encoded into 256 KB pooled buffers (as
// /metrics does), its CPU and the scavenges that ran during it (count, total pause).
// The heap compactor is told of the scrapes as in wireprobe (app.ts): a compaction it runs (a
// second after a scrape's answer, so during the next scrape) counts in that scrape's CPU; the full
// collections within each measured scrape are listed. To compare with another build, run that
// build's dist/bench/scrape-cpu.js.
//   node dist/bench/scrape-cpu.js [--targets 10000] [--repeats 7]
import { execFile } from 'node:child_process';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import type { GroupConfig, TargetConfig } from '../src/config/types.js';
import { createHttpApp, listen } from '../src/http/server.js';
import { systemClock } from '../src/lib/clock.js';
import { HeapCompactor, HEAP_COMPACTION, threadHeap } from '../src/lib/heap-compaction.js';
import { loadMallocTrim } from '../src/lib/malloc-trim.js';
import { createLogger } from '../src/lib/logger.js';
import { createCatalog } from '../src/metrics/catalog.js';
import { ByteBuffers, type FastRegistry } from '../src/metrics/fast.js';
import { registerProcessMetrics } from '../src/metrics/process-metrics.js';
import { targetSeriesFactory } from '../src/metrics/target-series.js';
import { probeKinds } from '../src/probes/index.js';
import type { RoundResult } from '../src/scheduler/round.js';
import type { TargetTask } from '../src/targets/tasks.js';

const { values } = parseArgs({ options: { targets: { type: 'string' }, repeats: { type: 'string' } } });
const N = Number(values.targets ?? 10_000);
const REPEATS = Number(values.repeats ?? 7);
const DUMP = process.env.WLM_DUMP;

function curl(url: string, gzip: boolean): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const args = ['-s', '-o', '/dev/null', '-w', '%{size_download}', '--max-time', '20', ...(gzip ? ['-H', 'Accept-Encoding: gzip'] : []), url];
    execFile('curl', args, { timeout: 25_000 }, (err, stdout) => {
      if (err !== null) reject(new Error(`curl ${url}: ${err.message}`));
      else resolve({ ms: performance.now() - t0, bytes: Number(stdout) });
    });
  });
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** REPEATS renders of the exposition into pooled buffers: CPU ms, and the scavenges within each */
async function renderInProcess(fast: FastRegistry): Promise<string> {
  const scavenges: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges.push(e);
  });
  obs.observe({ entryTypes: ['gc'] });
  const pool = new ByteBuffers(256 * 1024, 6);
  const runs: { cpu: number; t0: number; t1: number }[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const b of fast.encoded(pool)) pool.release(b);
    const c = process.cpuUsage(c0);
    runs.push({ cpu: (c.user + c.system) / 1000, t0, t1: performance.now() });
    await new Promise((res) => setTimeout(res, 50));
  }
  obs.disconnect();
  const within = runs.map((r) => scavenges.filter((e) => e.startTime >= r.t0 && e.startTime < r.t1));
  const pause = within.map((es) => es.reduce((a, e) => a + e.duration, 0));
  return (
    `render in process: CPU ${median(runs.map((r) => r.cpu)).toFixed(1)} ms median (${runs.map((r) => r.cpu.toFixed(0)).join(' ')}), ` +
    `${median(within.map((es) => es.length))} scavenges of ${median(pause).toFixed(1)} ms in all (median)\n`
  );
}

async function main(): Promise<void> {
  const registry = new Registry();
  registerProcessMetrics(registry, Date.now());
  const catalog = createCatalog(probeKinds.map((k) => k.metrics), registry);
  const icmp = probeKinds.find((k) => k.metrics.prefix === 'icmp')!;
  const factory = targetSeriesFactory(catalog, systemClock);
  const group = { name: 'bench' } as GroupConfig;
  const rtts = Float64Array.from([0.0004]);
  const round: RoundResult = { sent: 1, lost: 0, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 1, endWallMs: Date.now(), perProbe: null };
  for (let i = 0; i < N; i++) {
    const cfg = { name: `bench-${i}`, address_family: 'ipv4', state: undefined, alert_level: 'no_alert', threshold: {}, per_host_metrics: false } as unknown as TargetConfig;
    const s = factory(cfg, icmp, { probeName: 'bench', percentiles: [50, 95, 99] });
    s.prime();
    s.resolved(true);
    s.setThresholds([group]);
    const task = { group, hosts: [], recorder: null, hostRecorder: null } as unknown as TargetTask;
    s.attach(task);
    for (let k = 0; k < 3; k++) task.recorder!.record(round);
  }
  const log = createLogger((line) => process.stdout.write(`  ${line}\n`), 'debug');
  const compactor = new HeapCompactor(threadHeap, HEAP_COMPACTION, systemClock, log, loadMallocTrim().trim);
  const scrapes = { started: () => compactor.scrapeStarted(), answered: () => compactor.scrapeAnswered() };
  const app = createHttpApp({ registry, fast: catalog.fast, ready: () => true, tokens: () => [], log: createLogger(() => undefined, 'error'), scrapes });
  const majorGcs: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs.push(e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const server = await listen(app, '127.0.0.1', 0, { headerTimeoutS: 10, requestTimeoutS: 60, maxConnections: 64 });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const base = `http://127.0.0.1:${port}`;
  const rss = (): string => (process.memoryUsage().rss / 1e6).toFixed(1);
  if (DUMP !== undefined) {
    let out = '';
    catalog.fast.expose((c) => (out += c));
    (await import('node:fs')).writeFileSync(DUMP, out);
    process.exit(0);
  }
  process.stdout.write(`${N} ICMP targets, percentiles 50/95/99, default RTT buckets; RSS ${rss()} MB before the scrapes\n`);
  process.stdout.write(await renderInProcess(catalog.fast));
  for (const gzip of [false, true]) {
    const cpu: number[] = [];
    const sys: number[] = [];
    const faults: number[] = [];
    const wall: number[] = [];
    const gcs: string[] = [];
    let bytes = 0;
    await curl(`${base}/metrics`, gzip);
    for (let i = 0; i < REPEATS; i++) {
      majorGcs.length = 0;
      const c0 = process.cpuUsage();
      const f0 = process.resourceUsage().minorPageFault;
      const r = await curl(`${base}/metrics`, gzip);
      await new Promise((res) => setTimeout(res, 50));
      const c = process.cpuUsage(c0);
      faults.push(process.resourceUsage().minorPageFault - f0);
      cpu.push((c.user + c.system) / 1000);
      sys.push(c.system / 1000);
      wall.push(r.ms);
      bytes = r.bytes;
      gcs.push(majorGcs.length === 0 ? '-' : majorGcs.map((ms) => ms.toFixed(0)).join('+'));
    }
    process.stdout.write(
      `${gzip ? 'gzip ' : 'plain'}: CPU ${median(cpu).toFixed(0)} ms median (${cpu.map((x) => x.toFixed(0)).join(' ')}), of it system ${median(sys).toFixed(0)} ms, ` +
        `${median(faults)} minor page faults, wall ${median(wall).toFixed(0)} ms, ${bytes} bytes on the wire; full GCs (ms) in each: ${gcs.join(' ')}\n`,
    );
  }
  for (const gzip of [false, true]) {
    const healthy: number[] = [];
    for (let i = 0; i < 5; i++) {
      const scrape = curl(`${base}/metrics`, gzip);
      await new Promise((res) => setTimeout(res, 20));
      healthy.push((await curl(`${base}/-/healthy`, false)).ms);
      await scrape;
    }
    process.stdout.write(`/-/healthy during a ${gzip ? 'gzip' : 'plain'} scrape: ${median(healthy).toFixed(0)} ms median (${healthy.map((x) => x.toFixed(0)).join(' ')}), curl start included\n`);
  }
  process.stdout.write(`RSS ${rss()} MB after\n`);
  gcObserver.disconnect();
  compactor.stop();
  server.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
