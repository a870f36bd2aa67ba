// Command line of the engine benchmark, and the reading of any bench's command line.
import { parseArgs } from 'node:util';
import { createLab, type Lab } from '../test/lab/index.js';
import { parseBenchTypes, type BenchType } from './probe-types.js';

export const USAGE = `usage: node dist/bench/engine-bench.js [options]   (root; creates namespaces wpt…)
  --quick                 1000 targets, 2 rate steps per tool, short low-rate line
  --types LIST            probe types, each against its peer (default ICMPping): ICMPping (fping),
                          TCPsyn (closed port, RST; hping3 -S), TCPsyn-open (listener, SYN-ACK; hping3 -S),
                          UDPunreachable (closed port, ICMP port unreachable; hping3 -2)
  --targets LIST          target counts (default 100,1000,10000)
  --rates LIST            requested probes/s ladder, all tools (default 5000,20000,50000,100000,150000)
  --warmup S / --window S wireprobe warm-up / measured window per step (default 4 / 12)
  --settle S              wireprobe: pause between the first scrape and the window (default 2)
  --fping-warmup S        fping warm-up per step (default 2)
  --hping3-warmup S       hping3 warm-up per step (default 2)
  --hping3-procs N        hping3 processes per step, one target each, rate/N each (default 2)
  --refine N              after the first failing step, try up to N rates between it and the last pass (default 1)
  --lowrate-targets N     targets of the low-rate line (ICMPping only; default 10000; 1 packet / 10 s each)
  --lowrate-warmup S / --lowrate-window S   (default 30 / 60)
  --skip LIST             any of: wireprobe, fping, hping3, sweep, lowrate
  --json FILE             also write every row and the summary as JSON
  --max-minutes M         hard bound of the whole run (default 20 per type; 5 per type with --quick)`;

export interface Options {
  types: BenchType[];
  targets: number[];
  rates: number[];
  warmupS: number;
  windowS: number;
  settleS: number;
  fpingWarmupS: number;
  hping3WarmupS: number;
  hping3Procs: number;
  refine: number;
  lowTargets: number;
  lowWarmupS: number;
  lowWindowS: number;
  skip: Set<string>;
  json: string | undefined;
  maxMinutes: number;
}

function numberList(text: string, what: string): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`--${what}: expected positive numbers, got ${text}`);
  return out;
}

function positive(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${what}: expected a non-negative number, got ${text}`);
  return v;
}

const STRING_OPTIONS = [
  'types', 'targets', 'rates', 'warmup', 'window', 'settle', 'fping-warmup', 'hping3-warmup', 'hping3-procs', 'refine',
  'lowrate-targets', 'lowrate-warmup', 'lowrate-window', 'skip', 'json', 'max-minutes',
] as const;

/** undefined for --help; throws on a bad value. */
export function parseOptions(argv: string[]): Options | undefined {
  const strings = Object.fromEntries(STRING_OPTIONS.map((k) => [k, { type: 'string' as const }]));
  const { values: v } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, help: { type: 'boolean' }, ...strings } });
  if (v.help === true) return undefined;
  const values: Record<string, unknown> = v;
  const str = (k: (typeof STRING_OPTIONS)[number]): string | undefined => {
    const x = values[k];
    return typeof x === 'string' ? x : undefined;
  };
  const quick = v.quick === true;
  const types = parseBenchTypes(str('types') ?? 'ICMPping');
  const targetsText = str('targets');
  const targets = targetsText !== undefined ? numberList(targetsText, 'targets') : quick ? [1000] : [100, 1000, 10_000];
  if (targets.some((t) => !Number.isInteger(t) || t > 256 * 254)) throw new Error('--targets: integers up to 65024');
  const ratesText = str('rates');
  const rates = ratesText !== undefined ? numberList(ratesText, 'rates') : quick ? [5000, 20_000] : [5000, 20_000, 50_000, 100_000, 150_000];
  return {
    types,
    targets,
    rates: [...rates].sort((a, b) => a - b),
    warmupS: positive(str('warmup'), 4, 'warmup'),
    windowS: Math.max(1, positive(str('window'), quick ? 8 : 12, 'window')),
    settleS: positive(str('settle'), 2, 'settle'),
    fpingWarmupS: positive(str('fping-warmup'), 2, 'fping-warmup'),
    hping3WarmupS: positive(str('hping3-warmup'), 2, 'hping3-warmup'),
    hping3Procs: Math.max(1, Math.floor(positive(str('hping3-procs'), 2, 'hping3-procs'))),
    refine: Math.floor(positive(str('refine'), quick ? 0 : 1, 'refine')),
    lowTargets: Math.floor(positive(str('lowrate-targets'), quick ? 1000 : 10_000, 'lowrate-targets')),
    lowWarmupS: positive(str('lowrate-warmup'), quick ? 5 : 30, 'lowrate-warmup'),
    lowWindowS: Math.max(10, positive(str('lowrate-window'), quick ? 10 : 60, 'lowrate-window')),
    skip: new Set((str('skip') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')),
    json: str('json'),
    maxMinutes: positive(str('max-minutes'), (quick ? 5 : 20) * types.length, 'max-minutes'),
  };
}

/** A bench's options from its command line, or the exit code to stop with: 0 after printing the usage, 64 on a bad option. */
export function commandLine<O>(parse: (argv: string[]) => O | undefined, usage: string): O | number {
  try {
    const o = parse(process.argv.slice(2));
    if (o !== undefined) return o;
    process.stdout.write(`${usage}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${usage}\n`);
    return 64;
  }
}

/**
 * Runs `run` in a fresh lab, deleted afterwards (also on error); when the run goes over
 * `maxMinutes` the lab is destroyed and the process exits with 3.
 */
export async function withLab<T>(name: string, maxMinutes: number, log: (msg: string) => void, run: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab({ name });
  const watchdog = setTimeout(() => {
    log(`run exceeded --max-minutes ${maxMinutes}: destroying the lab and exiting`);
    void lab.destroy().finally(() => process.exit(3));
  }, maxMinutes * 60_000);
  try {
    return await run(lab);
  } finally {
    clearTimeout(watchdog);
    await lab.destroy();
  }
}

/** Runs a bench's main: exits with its code, or prints the error and exits with 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

/** A positive number option: `d` when absent, else an error naming `--what`. */
export function positiveNumber(v: string | undefined, d: number, what: string): number {
  const n = v === undefined ? d : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${what}: expected a positive number, got ${v}`);
  return n;
}
