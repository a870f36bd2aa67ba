// Flow collector benchmark: the same IPFIX datagrams (30 flows each) sent over loopback to the
// wireprobe flow collector (bench/flow-collector.ts: decoding, top talkers, a counting sink; no
// store) and to nfcapd (nfdump, writing its files) in the same run, at increasing rates. Prints,
// per rate and tool: datagrams and flows received per second, kernel drops (/proc/net/udp), CPU
// seconds per 10^6 flows and peak RSS. See bench/README.md.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { procLocalAddress, socketDrops } from '../src/flows/proc-udp.js';
import { requireTools } from '../test/lab/require-tools.js';
import { clockTicksPerSecond, cpuTicks, peakRssKb } from './proc-stats.js';

const { values: args } = parseArgs({
  options: { rates: { type: 'string', default: '5000,10000,20000,30000' }, seconds: { type: 'string', default: '5' } },
});
const rates = String(args.rates).split(',').map(Number);
const seconds = Number(args.seconds);
const FLOWS_PER_DATAGRAM = 30;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const execFileP = promisify(execFile);

requireTools([{ bin: 'nfcapd', pkg: 'nfdump' }, { bin: 'nfdump', pkg: 'nfdump' }]);

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  s.close();
  return port;
}

function drops(port: number): number {
  return socketDrops(readFileSync('/proc/net/udp', 'utf8'), procLocalAddress('127.0.0.1', port)!) ?? NaN;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}

interface Row { tool: string; rate: number; sent: number; datagrams: number; flows: number; drops: number; cpuS: number; rssMb: number }

async function step(rate: number): Promise<Row[]> {
  // wireprobe
  const wp = spawn(process.execPath, [here('./flow-collector.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: wp.stdout });
  let last = { flows: 0, datagrams: 0 };
  const wpPort = await new Promise<number>((resolve) => {
    lines.on('line', (l) => {
      const j = JSON.parse(l) as { port?: number; flows?: number; datagrams?: number };
      if (j.port !== undefined) resolve(j.port);
      else last = { flows: j.flows ?? 0, datagrams: j.datagrams ?? 0 };
    });
  });
  // nfcapd
  const dir = mkdtempSync(join(tmpdir(), 'wpt-nfcapd-'));
  const nfPort = await freePort();
  const nf = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(nfPort), '-w', dir, '-B', '33554432', '-t', '3600'], { stdio: 'ignore' });
  for (let i = 0; i < 50 && Number.isNaN(drops(nfPort)); i++) await sleep(100);
  await sleep(300);
  const cpu0 = [cpuTicks(wp.pid!) ?? 0, cpuTicks(nf.pid!) ?? 0];
  const drops0 = [drops(wpPort), drops(nfPort)];
  const sender = spawn(process.execPath, [here('./flow-sender.js'), '--rate', String(rate), '--seconds', String(seconds), '--ports', `${wpPort},${nfPort}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = 0;
  createInterface({ input: sender.stdout }).on('line', (l) => {
    sent = (JSON.parse(l) as { sent: number }).sent;
  });
  await exited(sender);
  await sleep(1500);
  const tck = clockTicksPerSecond();
  const cpu = [((cpuTicks(wp.pid!) ?? 0) - cpu0[0]!) / tck, ((cpuTicks(nf.pid!) ?? 0) - cpu0[1]!) / tck];
  const rss = [(peakRssKb(wp.pid!) ?? 0) / 1024, (peakRssKb(nf.pid!) ?? 0) / 1024];
  const dropped = [drops(wpPort) - drops0[0]!, drops(nfPort) - drops0[1]!];
  wp.kill('SIGTERM');
  nf.kill('SIGTERM');
  await Promise.all([exited(wp), exited(nf)]);
  const { stdout } = await execFileP('nfdump', ['-R', dir, '-I'], { timeout: 60_000 });
  rmSync(dir, { recursive: true, force: true });
  const nfFlows = Number(/^Flows:\s+(\d+)/m.exec(stdout)?.[1] ?? NaN);
  return [
    { tool: 'wireprobe', rate, sent, datagrams: last.datagrams, flows: last.flows, drops: dropped[0]!, cpuS: cpu[0]!, rssMb: rss[0]! },
    { tool: 'nfcapd', rate, sent, datagrams: nfFlows / FLOWS_PER_DATAGRAM, flows: nfFlows, drops: dropped[1]!, cpuS: cpu[1]!, rssMb: rss[1]! },
  ];
}

console.log(`IPFIX, ${FLOWS_PER_DATAGRAM} flows per datagram, ${seconds} s per step, loopback; same datagrams to both tools`);
console.log('rate/s  tool       sent     received  datagrams/s  flows/s    kernel-drops  CPU-s/1e6-flows  peak-RSS-MB');
for (const rate of rates) {
  for (const r of await step(rate)) {
    const perM = r.flows > 0 ? (r.cpuS / r.flows) * 1e6 : NaN;
    console.log(
      `${String(rate).padEnd(7)} ${r.tool.padEnd(10)} ${String(r.sent).padEnd(8)} ${String(Math.round(r.datagrams)).padEnd(9)} ${String(Math.round(r.datagrams / seconds)).padEnd(12)} `
      + `${String(Math.round(r.flows / seconds)).padEnd(10)} ${String(r.drops).padEnd(13)} ${perM.toFixed(2).padEnd(16)} ${r.rssMb.toFixed(0)}`,
    );
  }
}
