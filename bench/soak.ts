// Soak: wireprobe at 50 000 ICMP probes/s (1000 targets × 50) for a long time in one throw-away
// namespace lab. Reports RSS drift, false loss and the event-loop lag.
//   node dist/bench/soak.js [--seconds 3600] [--targets 1000] [--rate 50000] [--sample 30]
// Every --sample seconds: VmRSS split into RssAnon / RssFile (/proc/PID/status), CPU, V8 heap in use
// and external memory (nodejs_heap_size_used_bytes, nodejs_external_memory_bytes), Σ sent / lost /
// indeterminate and the probes admission control skipped from a scrape, and the wire
// counters (echo requests arriving and replies leaving the target namespace, which loses nothing:
// every probe counted lost while every request was answered on the wire is false loss). The
// event-loop lag is measured inside wireprobe by a preloaded module (NODE_OPTIONS --import,
// perf_hooks.monitorEventLoopDelay, 10 ms resolution) that writes its histogram to a file each
// sample; the bench prints its p99 and max per sample and over the run. RSS drift: the mean of the
// last quarter of the samples against the mean of the second quarter (the first is warm-up). The
// caller's NODE_OPTIONS (e.g. --max-semi-space-size=…) reach wireprobe, ahead of that --import.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, labIpv4Targets, parseExposition, requireRoot, requireTools, sleep, startWireprobe, sum } from '../test/lab/index.js';
import { installWitness, witnessFor } from './probe-types.js';
import { clockTicksPerSecond, cpuTicks, findProcess, rssKb, rssSplitKb } from './proc-stats.js';
import { planRate, wireprobeConfig } from './wireprobe-runner.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

const LAG_MODULE = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const out = process.env.WPT_SOAK_LAG_FILE;
const t = setInterval(() => {
  writeFileSync(out, JSON.stringify({ p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6, n: h.count }));
  h.reset();
}, Number(process.env.WPT_SOAK_LAG_MS));
t.unref();
`;

interface Sample {
  t: number;
  rssMb: number;
  anonMb: number;
  fileMb: number;
  heapMb: number;
  externalMb: number;
  cores: number;
  sent: number;
  lost: number;
  indet: number;
  skipped: number;
  wireReq: number;
  wireRep: number;
  lagP99: number;
  lagMax: number;
}

async function main(): Promise<void> {
  requireRoot();
  requireTools([{ bin: 'nft', pkg: 'nftables' }, { bin: 'curl', pkg: 'curl' }]);
  const seconds = arg('seconds', 3600);
  const targets = arg('targets', 1000);
  const rate = arg('rate', 50_000);
  const sampleS = arg('sample', 30);
  const lab = await createLab({ name: 'soak' });
  const bound = setTimeout(() => {
    process.stderr.write('soak: over its time bound, destroying the lab\n');
    void lab.destroy().finally(() => process.exit(3));
  }, (seconds + 180) * 1000);
  const stop = (): void => void lab.destroy().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await installWitness(lab);
    const wire = witnessFor(lab, 'ICMPping');
    const lagModule = join(lab.tmpDir, 'lag.mjs');
    const lagFile = join(lab.tmpDir, 'lag.json');
    writeFileSync(lagModule, LAG_MODULE);
    const plan = planRate(targets, rate);
    const wp = await startWireprobe(lab, wireprobeConfig(labIpv4Targets(targets), plan, 'ICMPping'), {
      readyTimeoutMs: 180_000,
      env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${lagModule}`].filter((o) => o !== undefined && o !== '').join(' '), WPT_SOAK_LAG_FILE: lagFile, WPT_SOAK_LAG_MS: String(sampleS * 1000) },
    });
    const pid = (await findProcess(wp.process.pid, 'node', 2000)) ?? wp.process.pid;
    const hz = clockTicksPerSecond();
    const samples: Sample[] = [];
    let failedScrapes = 0;
    const t0 = performance.now();
    let lastTicks = cpuTicks(pid) ?? 0;
    let lastT = t0;
    process.stdout.write(`soak: ${targets} targets, ${plan.requested} probes/s asked, ${seconds} s, sample every ${sampleS} s, NODE_OPTIONS for wireprobe: ${process.env.NODE_OPTIONS ?? '(none)'}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
    process.stdout.write('t s | RSS MB | RssAnon MB | RssFile MB | heapUsed MB | external MB | cores | Σsent | Σlost | Σindet. | Σskipped | wire req | wire rep | lag p99 ms | lag max ms\n');
    while ((performance.now() - t0) / 1000 < seconds) {
      await sleep(sampleS * 1000);
      if (wp.process.exitCode !== undefined) throw new Error(`wireprobe exited ${wp.process.exitCode}: ${wp.logs().slice(-2000)}`);
      // curl starts in milliseconds where a node client takes seconds on a loaded machine; a scrape
      // that fails is reported and the soak goes on
      const [text, w] = await Promise.all([
        lab.exec('probe', ['curl', '-sS', '-m', String(Math.max(10, sampleS - 5)), `${wp.baseUrl}/metrics`], { timeoutMs: (sampleS + 10) * 1000 }),
        wire.read(),
      ]);
      if (text.code !== 0) {
        failedScrapes++;
        process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(0)} | scrape failed (${text.code}): ${text.stderr.trim().slice(0, 120)}\n`);
        continue;
      }
      const scrape = parseExposition(text.stdout);
      const ticks = cpuTicks(pid) ?? Number.NaN;
      const now = performance.now();
      let lag = { p99: Number.NaN, max: Number.NaN };
      try {
        lag = JSON.parse(readFileSync(lagFile, 'utf8')) as typeof lag;
      } catch {
        // not written yet
      }
      const split = rssSplitKb(pid);
      const s: Sample = {
        t: (now - t0) / 1000, rssMb: ((rssKb(pid) ?? 0) * 1024) / 1e6, cores: (ticks - lastTicks) / hz / ((now - lastT) / 1000),
        anonMb: ((split?.anon ?? Number.NaN) * 1024) / 1e6, fileMb: ((split?.file ?? Number.NaN) * 1024) / 1e6,
        heapMb: sum(scrape, 'nodejs_heap_size_used_bytes') / 1e6, externalMb: sum(scrape, 'nodejs_external_memory_bytes') / 1e6,
        sent: sum(scrape, 'icmp_sent_total'), lost: sum(scrape, 'icmp_loss_total'), indet: sum(scrape, 'icmp_indeterminate_total'),
        skipped: sum(scrape, 'wireprobe_probes_skipped_total'),
        wireReq: w.probes, wireRep: w.replies, lagP99: lag.p99, lagMax: lag.max,
      };
      lastTicks = ticks;
      lastT = now;
      samples.push(s);
      process.stdout.write(
        `${s.t.toFixed(0)} | ${s.rssMb.toFixed(1)} | ${s.anonMb.toFixed(1)} | ${s.fileMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${s.externalMb.toFixed(1)} | ${s.cores.toFixed(2)} | ${s.sent} | ${s.lost} | ${s.indet} | ${s.skipped} | ${s.wireReq} | ${s.wireRep} | ${s.lagP99.toFixed(1)} | ${s.lagMax.toFixed(1)}\n`,
      );
    }
    await wp.stop();
    const n = samples.length;
    const mean = (a: Sample[]): number => a.reduce((x, y) => x + y.rssMb, 0) / Math.max(1, a.length);
    const early = mean(samples.slice(Math.floor(n / 4), Math.floor(n / 2)));
    const late = mean(samples.slice(Math.floor((3 * n) / 4)));
    const last = samples.at(-1);
    const range = (f: (s: Sample) => number): string => `${Math.min(...samples.map(f)).toFixed(1)}–${Math.max(...samples.map(f)).toFixed(1)} MB`;
    const lagsP99 = samples.map((s) => s.lagP99).filter(Number.isFinite).sort((a, b) => a - b);
    const wireLost = last ? last.wireReq - last.wireRep : Number.NaN;
    process.stdout.write(
      [
        `soak summary: ${(last?.t ?? 0).toFixed(0)} s, ${n} samples, ${failedScrapes} failed scrapes`,
        `  RSS: second quarter mean ${early.toFixed(1)} MB, last quarter mean ${late.toFixed(1)} MB: drift ${((100 * (late - early)) / early).toFixed(2)} % (max ${Math.max(...samples.map((s) => s.rssMb)).toFixed(1)} MB); first sample ${samples[0]?.rssMb.toFixed(1)} MB, last ${last?.rssMb.toFixed(1)} MB`,
        `  RssAnon ${range((s) => s.anonMb)}, RssFile ${range((s) => s.fileMb)}, heapUsed ${range((s) => s.heapMb)}, external ${range((s) => s.externalMb)}`,
        `  probes: ${last?.sent ?? 0} settled, ${last?.lost ?? 0} lost, ${last?.indet ?? 0} indeterminate, ${last?.skipped ?? 0} skipped (admission control: neither sent nor lost); wire: ${last?.wireReq ?? 0} requests, ${wireLost} unanswered (the lab loses nothing: false loss = lost − wire unanswered = ${(last?.lost ?? 0) - wireLost})`,
        `  event-loop lag: p99 per sample median ${(lagsP99[Math.floor(lagsP99.length / 2)] ?? Number.NaN).toFixed(1)} ms, worst ${(lagsP99.at(-1) ?? Number.NaN).toFixed(1)} ms; max ${Math.max(...samples.map((s) => s.lagMax).filter(Number.isFinite)).toFixed(1)} ms`,
        '',
      ].join('\n'),
    );
  } finally {
    clearTimeout(bound);
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`soak: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
