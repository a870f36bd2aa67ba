// /metrics and /-/healthy under probe overload: wireprobe with N TCPsyn targets on a listening
// port (SYN-ACK, wireprobe resets: the costliest type) at a rate past what the machine sustains;
// a client in the probe namespace times GET /-/healthy and a gzip GET /metrics once a second.
//   node dist/bench/overload-bench.js [--targets 10000] [--rate 100000] [--seconds 20] [--warmup 5]
import { parseArgs } from 'node:util';
import { createLab, labIpv4Targets, requireRoot, sum, find, type Lab } from '../test/lab/index.js';
import { installWitness, startListener } from './probe-types.js';
import { planRate, wireprobeConfig } from './wireprobe-runner.js';
import { scrapeToFile } from './scrape.js';
import { startWireprobe, sleep } from '../test/lab/index.js';

const CLIENT = `
const http = require('node:http');
const [base, seconds] = process.argv.slice(1);
const get = (path, enc) => new Promise((resolve) => {
  const t0 = performance.now();
  const req = http.get(base + path, { headers: { 'accept-encoding': enc }, timeout: 20000 }, (res) => {
    let n = 0;
    res.on('data', (c) => { n += c.length; });
    res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode, bytes: n }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => resolve({ ms: performance.now() - t0, status: 0, bytes: 0 }));
});
(async () => {
  const out = [];
  const end = performance.now() + Number(seconds) * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    const healthy = await get('/-/healthy', 'identity');
    const metrics = await get('/metrics', 'gzip');
    out.push({ healthy, metrics });
    const left = 1000 - (performance.now() - t);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

interface Timing {
  readonly ms: number;
  readonly status: number;
  readonly bytes: number;
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};

async function run(lab: Lab, targets: number, rate: number, seconds: number, warmupS: number): Promise<void> {
  await installWitness(lab);
  await startListener(lab, seconds + warmupS + 300);
  const plan = planRate(targets, rate);
  const wp = await startWireprobe(lab, wireprobeConfig(labIpv4Targets(targets), plan, 'TCPsyn-open'), { readyTimeoutMs: 180_000 });
  try {
    await sleep(warmupS * 1000);
    const r = await lab.exec('probe', [process.execPath, '-e', CLIENT, wp.baseUrl, String(seconds)], { timeoutMs: (seconds + 60) * 1000 });
    const rows = JSON.parse(r.stdout || '[]') as { healthy: Timing; metrics: Timing }[];
    const after = await scrapeToFile(lab, wp, 60_000);
    const h = rows.map((x) => x.healthy.ms);
    const m = rows.map((x) => x.metrics.ms);
    const failed = rows.filter((x) => x.healthy.status !== 200 || x.metrics.status !== 200).length;
    const v = (name: string): number => sum(after.samples, name);
    process.stdout.write(
      [
        `overload: ${targets} TCPsyn targets (listener), requested ${plan.requested} probes/s, ${rows.length} client rounds in ${seconds} s, ${failed} failed`,
        `  GET /-/healthy ms: median ${q(h, 0.5).toFixed(0)}, p90 ${q(h, 0.9).toFixed(0)}, max ${Math.max(...h).toFixed(0)}`,
        `  GET /metrics (gzip) ms: median ${q(m, 0.5).toFixed(0)}, p90 ${q(m, 0.9).toFixed(0)}, max ${Math.max(...m).toFixed(0)}; ${rows[0]?.metrics.bytes ?? 0} bytes`,
        `  wireprobe: sent ${v('wireprobe_probes_sent_total')}, deferred ${v('wireprobe_probes_deferred_total')}, skipped ${v('wireprobe_probes_skipped_total')}, ` +
          `admitted ${find(after.samples, 'wireprobe_admitted_probes_per_second')?.value ?? '—'} probes/s, event-loop lag ${find(after.samples, 'wireprobe_event_loop_lag_seconds')?.value ?? '—'} s, ` +
          `send lag ${find(after.samples, 'wireprobe_send_lag_seconds')?.value ?? '—'} s, capture drops ${v('wireprobe_capture_dropped_packets_total')}`,
        '',
      ].join('\n'),
    );
  } finally {
    await wp.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { targets: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' } } });
  const targets = Number(values.targets ?? 10_000);
  const rate = Number(values.rate ?? 100_000);
  const seconds = Math.min(120, Number(values.seconds ?? 20));
  const warmupS = Math.min(60, Number(values.warmup ?? 5));
  requireRoot();
  const lab = await createLab({ name: 'overload' });
  const watchdog = setTimeout(() => void lab.destroy().finally(() => process.exit(3)), (seconds + warmupS + 300) * 1000);
  try {
    await run(lab, targets, rate, seconds, warmupS);
  } finally {
    clearTimeout(watchdog);
    await lab.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`overload-bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
