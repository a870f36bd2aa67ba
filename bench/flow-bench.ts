// Flow collector benchmark: the same IPFIX datagrams (30 flows each) sent over loopback, at
// increasing rates, to nfcapd (nfdump, writing its files), to the wireprobe flow collector
// without a store (bench/flow-collector.ts: decoding in the pool, top talkers, a counting sink),
// without the pool (wireprobe-inline: decoding on the main thread, the default), with its real
// SQLite store (wireprobe+sqlite, decoding inline; --store sqlite, the default; --store none
// leaves that row out), and receiving with
// Node's dgram instead of the batched receiver (wireprobe-dgram, the fallback), one tool at a
// time so that each has the machine to itself, all in one run. --before DIR (another build's
// dist/, with its node_modules reachable) runs that build's collector too, just before each of
// this build's (tools before:wireprobe...). Prints, per rate and tool: datagrams and flows
// received per second, rows the store dropped (its queue full), kernel drops (/proc/net/udp), CPU seconds per 10^6 flows (the whole
// process, store thread included, until the store has written everything), peak RSS, and the
// load average. --rcvbuf BYTES is the receive buffer every tool asks for (default 32 MiB; nfcapd
// and dgram get at most net.core.rmem_max, the batched receiver forces it when root). See
// bench/README.md.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { procLocalAddress, socketDrops } from '../src/flows/proc-udp.js';
import { requireTools } from '../test/lab/require-tools.js';
import { clockTicksPerSecond, cpuTicks, peakRssKb } from './proc-stats.js';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '5000,10000,20000,30000' }, seconds: { type: 'string', default: '5' }, store: { type: 'string', default: 'sqlite' },
    before: { type: 'string' }, rcvbuf: { type: 'string', default: '33554432' },
  },
});
const rates = String(args.rates).split(',').map(Number);
const seconds = Number(args.seconds);
const FLOWS_PER_DATAGRAM = 30;
/** how long a store may take to write what it was sent before the step gives up waiting */
const STORE_WAIT_MS = 30_000;
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

type Variant = 'wireprobe' | 'wireprobe-dgram' | 'wireprobe-inline' | 'wireprobe+sqlite';
/** a wireprobe variant of this build, or of the --before build */
type Tool = 'nfcapd' | Variant | `before:${Variant}`;
interface Row { tool: Tool; sent: number; datagrams: number; flows: number; stored: number; storeDropped: number; drops: number; cpuS: number; rssMb: number }
interface Collector { pid: number; port: number; proc: ChildProcess; done(): Promise<{ datagrams: number; flows: number; stored: number; storeDropped: number }> }

async function startWireprobe(store: boolean, pool: boolean, dgram: boolean, collector: string): Promise<Collector> {
  const argv = [collector, '--store', store ? 'sqlite' : 'none', '--pool', pool ? 'on' : 'off', '--rcvbuf', String(args.rcvbuf), ...(dgram ? ['--receiver', 'dgram'] : [])];
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = { flows: 0, datagrams: 0, stored: 0, storeDropped: 0 };
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: proc.stdout }).on('line', (l) => {
      const j = JSON.parse(l) as { port?: number; flows?: number; datagrams?: number; stored?: number; storeDropped?: number };
      if (j.port !== undefined) resolve(j.port);
      else last = { flows: j.flows ?? 0, datagrams: j.datagrams ?? 0, stored: j.stored ?? 0, storeDropped: j.storeDropped ?? 0 };
    });
  });
  return {
    pid: proc.pid!, port, proc,
    async done() {
      const t0 = Date.now();
      while (store && last.stored + last.storeDropped < last.flows && Date.now() - t0 < STORE_WAIT_MS) await sleep(200);
      await sleep(300);
      return { ...last, stored: store ? last.stored : last.flows };
    },
  };
}

async function startNfcapd(): Promise<Collector & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'wfp-nfcapd-'));
  const port = await freePort();
  const proc = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-B', String(args.rcvbuf), '-t', '3600'], { stdio: 'ignore' });
  for (let i = 0; i < 50 && Number.isNaN(drops(port)); i++) await sleep(100);
  return {
    pid: proc.pid!, port, proc, dir,
    async done() {
      await sleep(300);
      return { datagrams: NaN, flows: NaN, stored: NaN, storeDropped: 0 };
    },
  };
}

async function step(tool: Tool, rate: number): Promise<Row> {
  const variant = tool.replace(/^before:/, '');
  const collector = tool.startsWith('before:') ? join(String(args.before), 'bench', 'flow-collector.js') : here('./flow-collector.js');
  const c = tool === 'nfcapd' ? await startNfcapd() : await startWireprobe(variant === 'wireprobe+sqlite', variant === 'wireprobe' || variant === 'wireprobe-dgram', variant === 'wireprobe-dgram', collector);
  await sleep(500);
  const cpu0 = cpuTicks(c.pid) ?? 0;
  const drops0 = drops(c.port);
  const sender = spawn(process.execPath, [here('./flow-sender.js'), '--rate', String(rate), '--seconds', String(seconds), '--ports', String(c.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = 0;
  createInterface({ input: sender.stdout }).on('line', (l) => {
    sent = (JSON.parse(l) as { sent: number }).sent;
  });
  await exited(sender);
  await sleep(1500);
  let got = await c.done();
  const cpuS = ((cpuTicks(c.pid) ?? 0) - cpu0) / clockTicksPerSecond();
  const rssMb = (peakRssKb(c.pid) ?? 0) / 1024;
  const dropped = drops(c.port) - drops0;
  c.proc.kill('SIGTERM');
  await exited(c.proc);
  if ('dir' in c) {
    const { stdout } = await execFileP('nfdump', ['-R', String(c.dir), '-I'], { timeout: 60_000 });
    rmSync(String(c.dir), { recursive: true, force: true });
    const flows = Number(/^Flows:\s+(\d+)/m.exec(stdout)?.[1] ?? NaN);
    got = { flows, datagrams: flows / FLOWS_PER_DATAGRAM, stored: flows, storeDropped: 0 };
  }
  return { tool, sent, ...got, drops: dropped, cpuS, rssMb };
}

const variants: Variant[] = ['wireprobe', 'wireprobe-dgram', 'wireprobe-inline', ...(args.store === 'sqlite' ? ['wireprobe+sqlite' as const] : [])];
// the --before build has no batched receiver: its wireprobe row is the one to compare wireprobe-dgram with
const tools: Tool[] = ['nfcapd', ...variants.flatMap((v): Tool[] => (args.before === undefined || v === 'wireprobe-dgram' ? [v] : [`before:${v}`, v]))];
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`IPFIX, ${FLOWS_PER_DATAGRAM} flows per datagram, ${seconds} s per step, loopback; the same datagrams to each tool in turn; load average at start ${load()}`);
console.log('rate/s  tool                     sent     received  datagrams/s  flows/s    stored     store-drop  kernel-drops  CPU-s/1e6-flows  peak-RSS-MB  vs-nfcapd(CPU,RSS)');
for (const rate of rates) {
  let peer: Row | undefined;
  for (const tool of tools) {
    const r = await step(tool, rate);
    const perM = r.flows > 0 ? (r.cpuS / r.flows) * 1e6 : NaN;
    if (tool === 'nfcapd') peer = r;
    const peerPerM = peer !== undefined && peer.flows > 0 ? (peer.cpuS / peer.flows) * 1e6 : NaN;
    const ratio = tool === 'nfcapd' || peer === undefined ? '' : `${(perM / peerPerM).toFixed(2)}x, ${(r.rssMb / peer.rssMb).toFixed(1)}x`;
    console.log(
      `${String(rate).padEnd(7)} ${r.tool.padEnd(24)} ${String(r.sent).padEnd(8)} ${String(Math.round(r.datagrams)).padEnd(9)} ${String(Math.round(r.datagrams / seconds)).padEnd(12)} `
      + `${String(Math.round(r.flows / seconds)).padEnd(10)} ${String(r.stored).padEnd(10)} ${String(r.storeDropped).padEnd(11)} ${String(r.drops).padEnd(13)} ${perM.toFixed(2).padEnd(16)} ${r.rssMb.toFixed(0).padEnd(12)} ${ratio}`,
    );
  }
}
console.log(`load average at end ${load()}`);
