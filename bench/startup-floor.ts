// Memory floor of wireprobe per config (issue 14): RSS, VmHWM (start-up included), RssAnon/RssFile
// and the main thread's V8 heap, for an empty config, examples/wireprobe.yaml and N ICMP targets
// at 1 probe / 10 s; several builds interleaved in one lab, fping on the N targets in the same run.
//   node dist/bench/startup-floor.js [--main dist/src/main.js,/other/dist/src/main.js] [--targets 10000] [--repeat 2]
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { labIpv4Targets, netprobifyConfig, PACKAGED_NODE_FLAGS, packagedEnv, requireRoot, requireTools, sleep, waitFor, WIREPROBE_MAIN, REPO_ROOT, type Lab } from '../test/lab/index.js';
import { runFpingLowRate } from './fping-runner.js';
import { installHeapProbe, readHeapProbe } from './heap-probe.js';
import { commandLine, positiveNumber, runMain, withLab } from './options.js';
import { installWitness, witnessFor } from './probe-types.js';
import { clockTicksPerSecond, cpuTicks, findProcess } from './proc-stats.js';
import { wireprobeConfig } from './wireprobe-runner.js';

/** the V8 flags of the packaged service (packaging/wireprobe.service, Dockerfile, `make run`) */
const PORT = 9771;

const USAGE = `usage: node dist/bench/startup-floor.js [options]   (root; creates namespaces wpt…)
  --main LIST          comma-separated wireprobe entry points (main.js) to compare (default: this build's)
  --targets N          ICMP targets of the third config, 1 probe / 10 s each (default 10000)
  --settle S           seconds after /-/ready before sampling (default 15)
  --window S           RSS sampled every 500 ms over this many seconds (default 10)
  --repeat N           runs of each build × config, interleaved (default 1)
  --node-options=TEXT  NODE_OPTIONS of wireprobe (default "${PACKAGED_NODE_FLAGS.join(' ')}")
  --skip LIST          any of: fping, empty, example, targets
  --max-minutes M      hard bound of the whole run (default 12)`;

const started = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[startup-floor ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
};

interface Options {
  mains: string[];
  targets: number;
  settleS: number;
  windowS: number;
  repeat: number;
  nodeOptions: string;
  skip: Set<string>;
  maxMinutes: number;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      main: { type: 'string' }, targets: { type: 'string' }, settle: { type: 'string' }, window: { type: 'string' }, repeat: { type: 'string' },
      'node-options': { type: 'string' }, skip: { type: 'string' }, 'max-minutes': { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const num = positiveNumber;
  return {
    mains: (values.main ?? WIREPROBE_MAIN).split(',').filter((s) => s !== '').map((m) => resolve(m)),
    targets: Math.floor(num(values.targets, 10_000, 'targets')),
    settleS: num(values.settle, 15, 'settle'),
    windowS: num(values.window, 10, 'window'),
    repeat: Math.floor(num(values.repeat, 1, 'repeat')),
    nodeOptions: values['node-options'] ?? PACKAGED_NODE_FLAGS.join(' '),
    skip: new Set((values.skip ?? '').split(',').filter((s) => s !== '')),
    maxMinutes: num(values['max-minutes'], 12, 'max-minutes'),
  };
}

/** /proc/PID/status fields in MB (10^6 bytes); undefined once the process is gone. */
function statusMb(pid: number): Record<'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile' | 'Threads', number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  const mb = (field: string): number => (kb(field) * 1024) / 1e6;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? Number.NaN);
  return { VmRSS: mb('VmRSS'), VmHWM: mb('VmHWM'), RssAnon: mb('RssAnon'), RssFile: mb('RssFile'), Threads: threads };
}

interface Row {
  build: string;
  config: string;
  readyS: number;
  rssMb: number;
  /** VmHWM once /-/ready answered: the start-up's peak (config load, targets built) */
  hwmReadyMb: number;
  hwmMb: number;
  anonMb: number;
  fileMb: number;
  /** threads of the process at the window end (main, libuv pool, V8 platform, worker threads) */
  threads: number;
  /** CPU of the process over the window, % of one core */
  cpuPct: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

async function measure(lab: Lab, o: Options, main: string, name: string, yaml: string, run: number): Promise<Row> {
  const base = `${name.replace(/[^a-z0-9]+/gi, '-')}-${run}`;
  const configFile = join(lab.tmpDir, `${base}.yaml`);
  const probe = installHeapProbe(lab.tmpDir, base);
  writeFileSync(configFile, yaml);
  const env = packagedEnv(`${o.nodeOptions} --import=${probe.module}`.trim());
  const t0 = performance.now();
  const proc = lab.spawn('probe', [process.execPath, main, 'run', '--config', configFile], { env });
  try {
    const state = await waitFor(
      async () => {
        if (proc.exitCode !== undefined) return 'exited';
        return (await lab.fetchText(`http://127.0.0.1:${PORT}/-/ready`, { timeoutMs: 5000 }).catch(() => ({ status: 0 }))).status === 200 && 'ready';
      },
      { timeoutMs: 180_000, intervalMs: 200, what: `${name} ready`, describe: () => proc.stderr.slice(-2000) },
    );
    if (state === 'exited') throw new Error(`${name}: wireprobe exited with ${proc.exitCode}: ${proc.stderr.slice(-2000)}`);
    const readyS = (performance.now() - t0) / 1000;
    const pid = (await findProcess(proc.pid, 'node', 2000)) ?? proc.pid;
    const hwmReadyMb = statusMb(pid)?.VmHWM ?? Number.NaN;
    await sleep(o.settleS * 1000);
    const samples: number[] = [];
    const ticks0 = cpuTicks(pid) ?? Number.NaN;
    const t1 = performance.now();
    while (performance.now() - t1 < o.windowS * 1000) {
      const s = statusMb(pid);
      if (s === undefined) throw new Error(`${name}: wireprobe is gone`);
      samples.push(s.VmRSS);
      await sleep(500);
    }
    const last = statusMb(pid);
    if (last === undefined) throw new Error(`${name}: wireprobe is gone`);
    const cpuPct = (((cpuTicks(pid) ?? Number.NaN) - ticks0) / clockTicksPerSecond() / ((performance.now() - t1) / 1000)) * 100;
    const heap = readHeapProbe(probe.file);
    if (heap === undefined) throw new Error(`${name}: no heap sample from the preloaded module`);
    samples.sort((a, b) => a - b);
    return {
      build: main, config: name, readyS,
      rssMb: samples[Math.floor(samples.length / 2)] ?? Number.NaN, hwmReadyMb, hwmMb: last.VmHWM, anonMb: last.RssAnon, fileMb: last.RssFile, threads: last.Threads, cpuPct,
      heapUsedMb: heap.heapUsed / 1e6, heapTotalMb: heap.heapTotal / 1e6, externalMb: heap.external / 1e6,
    };
  } finally {
    await proc.stop('SIGTERM', 10_000);
  }
}

function table(rows: readonly Row[], fping: string | undefined, o: Options): string {
  const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '—');
  return [
    `${o.targets} targets × 1 probe / 10 s; NODE_OPTIONS "${o.nodeOptions}"; settle ${o.settleS} s, window ${o.windowS} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    '| build | config | ready (s) | steady RSS (MB, median) | VmHWM at ready | VmHWM | RssAnon | RssFile | threads | CPU % | heap used | heap total | external |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.build} | ${r.config} | ${f(r.readyS)} | ${f(r.rssMb)} | ${f(r.hwmReadyMb)} | ${f(r.hwmMb)} | ${f(r.anonMb)} | ${f(r.fileMb)} | ${r.threads} | ${f(r.cpuPct, 2)} | ${f(r.heapUsedMb)} | ${f(r.heapTotalMb)} | ${f(r.externalMb)} |`),
    ...(fping === undefined ? [] : ['', fping]),
  ].join('\n');
}

async function main(): Promise<number> {
  const o = commandLine(parseOptions, USAGE);
  if (typeof o === 'number') return o;
  requireRoot();
  requireTools([{ bin: 'nft', pkg: 'nftables' }, { bin: 'timeout', pkg: 'coreutils' }, ...(o.skip.has('fping') ? [] : [{ bin: 'fping', pkg: 'fping' }])]);
  const addresses = labIpv4Targets(o.targets);
  const configs: [string, string][] = [
    ...(o.skip.has('empty') ? [] : [['empty', netprobifyConfig({ global: { prometheus_port: PORT }, targets: {} })] as [string, string]]),
    ...(o.skip.has('example') ? [] : [['example', readFileSync(join(REPO_ROOT, 'examples', 'wireprobe.yaml'), 'utf8')] as [string, string]]),
    ...(o.skip.has('targets') ? [] : [[`${o.targets} ICMP`, wireprobeConfig(addresses, { nbPackets: 1, intervalS: 10, requested: o.targets / 10 }, 'ICMPping')] as [string, string]]),
  ];
  const rows: Row[] = [];
  let fping: string | undefined;
  await withLab('startup-floor', o.maxMinutes, log, async (lab) => {
    await installWitness(lab);
    for (let run = 0; run < o.repeat; run++) {
      for (const [name, yaml] of configs) {
        for (const main of o.mains) {
          log(`${main}: ${name} (run ${run + 1}) …`);
          const row = await measure(lab, o, main, name, yaml, run);
          rows.push(row);
          log(`  RSS ${row.rssMb.toFixed(1)} MB, VmHWM ${row.hwmReadyMb.toFixed(1)} MB at ready, ${row.hwmMb.toFixed(1)} MB at the end, heap used ${row.heapUsedMb.toFixed(1)} MB, CPU ${row.cpuPct.toFixed(2)} %, load ${loadavg()[0]!.toFixed(2)}`);
        }
      }
    }
    if (!o.skip.has('fping') && !o.skip.has('targets')) {
      const r = await runFpingLowRate(lab, addresses, { warmupS: o.settleS, windowS: o.windowS, wire: witnessFor(lab, 'ICMPping'), log });
      fping = `fping, ${o.targets} targets (${r.params}): RSS at the end ${r.rssEndMb.toFixed(1)} MB, VmHWM ${r.peakSinceStartMb.toFixed(1)} MB`;
    }
  });
  process.stdout.write(`${table(rows, fping, o)}\n`);
  return 0;
}

runMain(main);
