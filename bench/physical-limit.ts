// The physical limit of this machine for raw-socket ICMP echo sends and their capture, against
// wireprobe's own maximum, in one throw-away namespace lab and one run (see bench/README.md).
//   node dist/bench/physical-limit.js [--seconds 6] [--targets 1000] [--rate 150000]
// Phases, each over the same window and the same 1000 AnyIP targets, rates from the nftables
// counters in the target namespace (echo requests arriving, echo replies leaving):
//   1. bench/raw-sender.c (compiled here with gcc): sendmmsg() batches of 64 on one raw socket, flat out;
//   2. the same with batches of 1 (one system call per packet, as wireprobe's binding does);
//   3. the same as 1 with tcpdump capturing (64 MB ring, immediate mode off): what the capture takes;
//   4. wireprobe asked for --rate probes/s (interval 1 s, nb_packets rate/targets).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, labIpv4Targets, requireRoot, requireTools, sleep, startWireprobe, type Lab } from '../test/lab/index.js';
import { installWitness, witnessFor } from './probe-types.js';
import { clockTicksPerSecond, cpuTicks, findProcess } from './proc-stats.js';
import { planRate, wireprobeConfig } from './wireprobe-runner.js';
import { REPO_ROOT } from '../test/lab/index.js';

interface Phase {
  readonly name: string;
  readonly requestsPerS: number;
  readonly repliesPerS: number;
  /** CPU of the sending process per 1000 requests on the wire (ms) */
  readonly cpuMsPer1000: number;
  readonly note: string;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

async function measure(lab: Lab, seconds: number, pids: () => number[]): Promise<{ req: number; rep: number; cpuS: number; s: number }> {
  const w = witnessFor(lab, 'ICMPping');
  const hz = clockTicksPerSecond();
  const ticks = (): number => pids().reduce((acc, p) => acc + (cpuTicks(p) ?? Number.NaN), 0);
  const a = await w.read();
  const c0 = ticks();
  await sleep(seconds * 1000);
  const c1 = ticks();
  const b = await w.read();
  const s = (b.atMs - a.atMs) / 1000;
  return { req: (b.probes - a.probes) / s, rep: (b.replies - a.replies) / s, cpuS: (c1 - c0) / hz, s };
}

async function rawPhase(lab: Lab, bin: string, seconds: number, targets: number, batch: number, name: string, capture: boolean): Promise<Phase> {
  let note = '';
  const dump = capture
    ? lab.spawn('probe', ['tcpdump', '-i', lab.probeIf, '-n', '-p', '-s', '96', '-B', '65536', '-w', '/dev/null', 'icmp'])
    : undefined;
  if (dump) await dump.waitForOutput(/listening on/, 10_000);
  const sender = lab.spawn('probe', [bin, String(seconds + 3), String(targets), String(batch)]);
  try {
    await sleep(1000);
    const m = await measure(lab, seconds, () => (dump ? [sender.pid, dump.pid] : [sender.pid]));
    await sender.exited;
    if (dump) {
      await dump.stop('SIGINT', 5000);
      const cap = /(\d+) packets captured/.exec(dump.stderr)?.[1];
      const drop = /(\d+) packets dropped by kernel/.exec(dump.stderr)?.[1];
      note = `tcpdump: ${cap ?? '?'} captured, ${drop ?? '?'} dropped by the kernel (whole run, ${seconds + 3} s)`;
    }
    const out = sender.stdout.trim();
    note = [out, note].filter((x) => x !== '').join('; ');
    return { name, requestsPerS: m.req, repliesPerS: m.rep, cpuMsPer1000: (1000 * m.cpuS) / ((m.req * m.s) / 1000), note };
  } finally {
    await sender.stop('SIGKILL', 2000);
    if (dump) await dump.stop('SIGKILL', 2000);
  }
}

/**
 * Where wireprobe's CPU time goes, by shared object: `perf record -e cpu-clock` on its PID for the
 * window, then `perf report --sort dso` (JIT-compiled JavaScript shows as [unknown] or a perf map).
 * Empty when perf is missing or refuses.
 */
async function perfProfile(pid: number, seconds: number): Promise<string> {
  const out = join('/tmp', `wpt-perf-${process.pid}.data`);
  try {
    await new Promise<void>((resolve) => {
      const p = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '499', '-o', out, '-p', String(pid), '--', 'sleep', String(seconds)], { stdio: 'ignore' });
      const kill = setTimeout(() => p.kill('SIGKILL'), (seconds + 20) * 1000);
      p.on('exit', () => (clearTimeout(kill), resolve()));
      p.on('error', () => (clearTimeout(kill), resolve()));
    });
    const report = execFileSync('perf', ['report', '-i', out, '--stdio', '--sort', 'dso', '-q'], { timeout: 60_000, encoding: 'utf8' });
    const rows = report.split('\n').map((l) => l.trim()).filter((l) => /^\d/.test(l)).slice(0, 6);
    return rows.length === 0 ? '' : `; perf (cpu-clock, by object): ${rows.map((r) => r.replace(/\s+/g, ' ')).join(', ')}`;
  } catch {
    return '';
  } finally {
    rmSync(out, { force: true });
    rmSync(`${out}.old`, { force: true });
  }
}

async function wireprobePhase(lab: Lab, seconds: number, targets: number, rate: number): Promise<Phase> {
  const plan = planRate(targets, rate);
  const wp = await startWireprobe(lab, wireprobeConfig(labIpv4Targets(targets), plan, 'ICMPping'), { readyTimeoutMs: 60_000 });
  try {
    const pid = (await findProcess(wp.process.pid, 'node', 2000)) ?? wp.process.pid;
    await sleep(3000);
    const profile = perfProfile(pid, seconds);
    const m = await measure(lab, seconds, () => [pid]);
    const where = await profile;
    return {
      name: `wireprobe, ${plan.requested} probes/s asked`, requestsPerS: m.req, repliesPerS: m.rep,
      cpuMsPer1000: (1000 * m.cpuS) / ((m.req * m.s) / 1000), note: `CPU ${(m.cpuS / m.s).toFixed(2)} cores${where}`,
    };
  } finally {
    await wp.stop();
  }
}

async function main(): Promise<void> {
  requireRoot();
  requireTools([{ bin: 'gcc', pkg: 'gcc' }, { bin: 'tcpdump', pkg: 'tcpdump' }, { bin: 'nft', pkg: 'nftables' }]);
  const seconds = arg('seconds', 6);
  const targets = arg('targets', 1000);
  const rate = arg('rate', 150_000);
  const lab = await createLab({ name: 'physical-limit' });
  const bound = setTimeout(() => {
    process.stderr.write('physical-limit: over its time bound, destroying the lab\n');
    void lab.destroy().finally(() => process.exit(3));
  }, (4 * (seconds + 10) + 120) * 1000);
  try {
    const bin = join(lab.tmpDir, 'raw-sender');
    execFileSync('gcc', ['-O2', '-o', bin, join(REPO_ROOT, 'bench', 'raw-sender.c')], { timeout: 60_000 });
    await installWitness(lab);
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const phases: Phase[] = [];
    phases.push(await rawPhase(lab, bin, seconds, targets, 64, 'raw-sender, sendmmsg × 64', false));
    phases.push(await rawPhase(lab, bin, seconds, targets, 1, 'raw-sender, sendmmsg × 1', false));
    phases.push(await rawPhase(lab, bin, seconds, targets, 64, 'raw-sender × 64 + tcpdump capture', true));
    try {
      phases.push(await wireprobePhase(lab, seconds, targets, rate));
    } catch (e) {
      process.stderr.write(`physical-limit: the wireprobe phase failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    }
    const limit = phases[0]!.requestsPerS;
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    process.stdout.write(`physical limit, ${targets} targets, ${seconds} s windows, load ${load0} → ${load1}\n`);
    process.stdout.write('| phase | requests/s on the wire | replies/s | fraction of the sendmmsg limit | CPU ms / 1000 requests | note |\n|---|---|---|---|---|---|\n');
    for (const p of phases) {
      process.stdout.write(
        `| ${p.name} | ${p.requestsPerS.toFixed(0)} | ${p.repliesPerS.toFixed(0)} | ${(p.requestsPerS / limit).toFixed(2)} | ${p.cpuMsPer1000.toFixed(2)} | ${p.note} |\n`,
      );
    }
  } finally {
    clearTimeout(bound);
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`physical-limit: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
