// Low-rate CPU, builds side by side (issue 14): N ICMP targets × 1 probe / 10 s, run by each given
// wireprobe build and by fping, alternated over several rounds in one lab, so that machine load
// hits every build alike. Per window: CPU % of a core, wake-ups/s, and wireprobe's per-thread split
// (on-CPU time and run slices from /proc/PID/task/TID/schedstat, thread names from comm).
//   node dist/bench/lowrate-ab.js --build before=/work/wt/x-before/dist/src/main.js --build after=dist/src/main.js
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { labIpv4Targets, PACKAGED_NODE_FLAGS, packagedEnv, requireRoot, requireTools, sleep, startWireprobe, WIREPROBE_MAIN, type Lab } from '../test/lab/index.js';
import { runFpingLowRate } from './fping-runner.js';
import { commandLine, positiveNumber, runMain, withLab } from './options.js';
import { installWitness, witnessFor } from './probe-types.js';
import { findProcess, measureWindow } from './proc-stats.js';
import { wireprobeConfig } from './wireprobe-runner.js';

const USAGE = `usage: node dist/bench/lowrate-ab.js [options]   (root; creates namespaces wpt…)
  --build NAME=MAIN    a wireprobe build (its dist/src/main.js); repeat to compare (default: this build)
  --targets N          ICMP targets, 1 probe / 10 s each (default 1000)
  --rounds R           rounds; each runs every build, then fping (default 3)
  --warmup S           seconds from start before the window (default 20)
  --window S           measured window (default 40)
  --node-options=TEXT  NODE_OPTIONS of wireprobe (default: the packaged flags, "${PACKAGED_NODE_FLAGS.join(' ')}")
  --skip-fping         no fping windows
  --max-minutes M      hard bound of the whole run (default 30)`;

const started = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[lowrate-ab ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
};

interface Build {
  readonly name: string;
  readonly main: string;
}

interface Options {
  readonly builds: readonly Build[];
  readonly targets: number;
  readonly rounds: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly nodeOptions: string;
  readonly fping: boolean;
  readonly maxMinutes: number;
}

function parseBuild(text: string): Build {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new Error(`--build: expected NAME=PATH, got ${text}`);
  return { name: text.slice(0, eq), main: text.slice(eq + 1) };
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      build: { type: 'string', multiple: true }, targets: { type: 'string' }, rounds: { type: 'string' }, warmup: { type: 'string' },
      window: { type: 'string' }, 'node-options': { type: 'string' }, 'skip-fping': { type: 'boolean' }, 'max-minutes': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const num = positiveNumber;
  return {
    builds: (values.build ?? [`this=${WIREPROBE_MAIN}`]).map(parseBuild),
    targets: Math.floor(num(values.targets, 1000, 'targets')),
    rounds: Math.floor(num(values.rounds, 3, 'rounds')),
    warmupS: num(values.warmup, 20, 'warmup'),
    windowS: num(values.window, 40, 'window'),
    nodeOptions: values['node-options'] ?? PACKAGED_NODE_FLAGS.join(' '),
    fping: values['skip-fping'] !== true,
    maxMinutes: num(values['max-minutes'], 30, 'max-minutes'),
  };
}

/** On-CPU nanoseconds and run slices of each thread of `pid`: `main` for the main thread, else its name and id. */
function threadSplit(pid: number): Map<string, { ns: number; slices: number }> {
  const out = new Map<string, { ns: number; slices: number }>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const comm = t === String(pid) ? 'main' : `${readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim()}#${t}`;
      const [ns, , slices] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      const cur = out.get(comm) ?? { ns: 0, slices: 0 };
      out.set(comm, { ns: cur.ns + (ns ?? 0), slices: cur.slices + (slices ?? 0) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function splitText(before: Map<string, { ns: number; slices: number }>, after: Map<string, { ns: number; slices: number }>, seconds: number): string {
  return [...after]
    .map(([name, a]) => {
      const b = before.get(name) ?? { ns: 0, slices: 0 };
      return { name, pct: (100 * (a.ns - b.ns)) / 1e9 / seconds, wps: (a.slices - b.slices) / seconds };
    })
    .filter((r) => r.pct >= 0.005 || r.wps >= 0.05)
    .sort((x, y) => y.pct - x.pct)
    .map((r) => `${r.name} ${r.pct.toFixed(2)} % ${r.wps.toFixed(1)}/s`)
    .join(', ');
}

interface Row {
  readonly round: number;
  readonly tool: string;
  readonly corePct: number;
  readonly wakeupsPerS: number;
  readonly achieved: number;
  readonly load1: number;
  readonly split: string;
}

async function runBuild(lab: Lab, o: Options, b: Build, addresses: readonly string[], round: number): Promise<Row> {
  const config = wireprobeConfig(addresses, { nbPackets: 1, intervalS: 10, requested: addresses.length / 10 }, 'ICMPping');
  const wp = await startWireprobe(lab, config, { main: b.main, readyTimeoutMs: 180_000, env: packagedEnv(o.nodeOptions) });
  try {
    const pid = (await findProcess(wp.process.pid, 'node', 2000)) ?? wp.process.pid;
    await sleep(o.warmupS * 1000);
    const t0 = threadSplit(pid);
    const win = await measureWindow(witnessFor(lab, 'ICMPping'), [pid], o.windowS);
    const split = splitText(t0, threadSplit(pid), win.seconds);
    const row = {
      round, tool: b.name, corePct: (100 * win.cpuSeconds) / win.seconds, wakeupsPerS: win.wakeupsPerS, achieved: win.wirePackets / win.seconds, load1: loadavg()[0] ?? Number.NaN, split,
    };
    log(`round ${round} ${b.name}: ${row.corePct.toFixed(2)} % core, ${row.wakeupsPerS.toFixed(1)} wake-ups/s, ${row.achieved.toFixed(0)} probes/s, load ${row.load1.toFixed(2)}; ${split}`);
    return row;
  } finally {
    await wp.stop();
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function table(rows: readonly Row[], o: Options): string {
  const tools = [...new Set(rows.map((r) => r.tool))];
  const fping = rows.filter((r) => r.tool === 'fping');
  return [
    `${o.targets} ICMP targets × 1 probe / 10 s, ${o.rounds} rounds of ${o.windowS} s windows; NODE_OPTIONS "${o.nodeOptions}"`,
    '',
    '| round | tool | CPU (% core) | wake-ups/s | probes/s | load (1 min) | threads: CPU %, run slices/s |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.round} | ${r.tool} | ${r.corePct.toFixed(2)} | ${r.wakeupsPerS.toFixed(1)} | ${r.achieved.toFixed(0)} | ${r.load1.toFixed(2)} | ${r.split} |`),
    '',
    '| tool | median CPU (% core) | range | median wake-ups/s | median ratio to fping (same round) |',
    '|---|---|---|---|---|',
    ...tools.map((t) => {
      const mine = rows.filter((r) => r.tool === t);
      const ratios = mine.map((r) => r.corePct / (fping.find((f) => f.round === r.round)?.corePct ?? Number.NaN)).filter(Number.isFinite);
      const pcts = mine.map((r) => r.corePct);
      return `| ${t} | ${median(pcts).toFixed(2)} | ${Math.min(...pcts).toFixed(2)}–${Math.max(...pcts).toFixed(2)} | ${median(mine.map((r) => r.wakeupsPerS)).toFixed(1)} | ${ratios.length === 0 ? '—' : median(ratios).toFixed(2)} |`;
    }),
  ].join('\n');
}

async function main(): Promise<number> {
  const o = commandLine(parseOptions, USAGE);
  if (typeof o === 'number') return o;
  requireRoot();
  requireTools([{ bin: 'nft', pkg: 'nftables' }, { bin: 'timeout', pkg: 'coreutils' }, ...(o.fping ? [{ bin: 'fping', pkg: 'fping' }] : [])]);
  const rows: Row[] = [];
  await withLab('lowrate-ab', o.maxMinutes, log, async (lab) => {
    await installWitness(lab);
    const addresses = labIpv4Targets(o.targets);
    for (let round = 1; round <= o.rounds; round++) {
      // the builds' order turns each round, so neither always runs right after fping
      const order = o.builds.map((_, i) => o.builds[(i + round - 1) % o.builds.length] as Build);
      for (const b of order) rows.push(await runBuild(lab, o, b, addresses, round));
      if (o.fping) {
        const r = await runFpingLowRate(lab, addresses, { warmupS: o.warmupS, windowS: o.windowS, wire: witnessFor(lab, 'ICMPping'), log });
        rows.push({ round, tool: 'fping', corePct: r.corePct, wakeupsPerS: r.wakeupsPerS ?? Number.NaN, achieved: r.achieved, load1: loadavg()[0] ?? Number.NaN, split: '' });
        log(`round ${round} fping: ${r.corePct.toFixed(2)} % core, ${(r.wakeupsPerS ?? Number.NaN).toFixed(1)} wake-ups/s`);
      }
    }
  });
  process.stdout.write(`${table(rows, o)}\n`);
  return 0;
}

runMain(main);
