// /proc readings for the benchmark: CPU ticks (utime + stime, all threads), peak RSS (VmHWM),
// process-tree lookups, and the measured window (CPU, RSS and the wire witness at both ends).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { procStatFields, sleep } from '../test/lab/index.js';
import type { WireWitness } from './probe-types.js';

let clkTck: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`), 100 when getconf is unavailable. */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
      clkTck = Number.isInteger(v) && v > 0 ? v : 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime of the whole thread group (fields 14 and 15 of /proc/PID/stat); undefined once gone. */
export function cpuTicks(pid: number): number | undefined {
  const rest = procStatFields(pid);
  if (rest === undefined || rest[0] === 'Z') return undefined;
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile'): number | undefined {
  const status = readText(`/proc/${pid}/status`);
  const m = status === undefined ? null : new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m === null ? undefined : Number(m[1]);
}

/** VmHWM (peak resident set since the process started) in kB; undefined once gone. */
export function peakRssKb(pid: number): number | undefined {
  return statusKb(pid, 'VmHWM');
}

/** VmRSS (current resident set) in kB; undefined once gone. */
export function rssKb(pid: number): number | undefined {
  return statusKb(pid, 'VmRSS');
}

/** The process's threads (main, libuv pool, V8 platform, worker threads); undefined once gone. */
export function threadCount(pid: number): number | undefined {
  const m = /^Threads:\s+(\d+)/m.exec(readText(`/proc/${pid}/status`) ?? '');
  return m === null ? undefined : Number(m[1]);
}

/** RssAnon (heap, stacks, anonymous mappings) and RssFile (mapped files: code, libraries) in kB; undefined once gone. */
export function rssSplitKb(pid: number): { anon: number; file: number } | undefined {
  const anon = statusKb(pid, 'RssAnon');
  const file = statusKb(pid, 'RssFile');
  return anon === undefined || file === undefined ? undefined : { anon, file };
}

export function commOf(pid: number): string | undefined {
  return readText(`/proc/${pid}/comm`)?.trim();
}

/** Direct children of every thread of `pid`. */
export function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const t of tasks) {
    for (const c of (readText(`/proc/${pid}/task/${t}/children`) ?? '').split(' ')) {
      const n = Number.parseInt(c, 10);
      if (Number.isInteger(n) && n > 1) out.push(n);
    }
  }
  return out;
}

/** `pid` and all its descendants (bounded walk). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 256) {
    const p = queue.shift() as number;
    out.push(p);
    queue.push(...childPids(p));
  }
  return out;
}

/**
 * The process named `comm` at or below `rootPid` (`ip netns exec` execs its command, but a wrapper
 * such as `timeout` forks it). Polls until found or `timeoutMs` passed.
 */
export async function findProcess(rootPid: number, comm: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = processTree(rootPid).find((p) => commOf(p) === comm);
    if (hit !== undefined) return hit;
    if (Date.now() >= deadline || commOf(rootPid) === undefined) return undefined;
    await sleep(20);
  }
}

export interface WindowSample {
  /** Seconds between the two wire readings. */
  readonly seconds: number;
  /** CPU seconds of the measured processes over the window. */
  readonly cpuSeconds: number;
  /** Probes of the measured type that reached the targets during the window. */
  readonly wirePackets: number;
  /** The targets' answers to them sent during the window. */
  readonly wireReplies: number;
  readonly wireRxDropped: number;
  /** Sum of VmHWM of the measured processes at the window end (MB, 10^6 bytes). */
  readonly peakRssMb: number;
  /** Sum of VmRSS at the window end (MB). */
  readonly rssEndMb: number;
  /** Sum of VmHWM read before the window (start-up, warm-up and anything before it; MB). */
  readonly peakBeforeMb: number;
  /** True when VmHWM was reset at the window start, i.e. peakRssMb is the window's own peak. */
  readonly peakReset: boolean;
  /** False when a measured process vanished during the window (the window was cut short). */
  readonly complete: boolean;
  /** Busy CPU of the whole machine over the window, in cores (/proc/stat: all but idle and iowait). */
  readonly machineBusyCores: number;
  /** Times the measured processes' threads were put on a CPU, per second (wake-ups; see runSlices). */
  readonly wakeupsPerS: number;
}

/**
 * Times each thread of `pids` was put on a CPU (third field of /proc/PID/task/TID/schedstat),
 * by "pid/tid": nearly one per wake-up for a mostly idle process.
 */
export function runSlices(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pids) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      const n = Number((readText(`/proc/${p}/task/${t}/schedstat`) ?? '').trim().split(/\s+/)[2]);
      if (Number.isFinite(n)) out.set(`${p}/${t}`, n);
    }
  }
  return out;
}

/** Run slices gained between two readings (a thread started in between counts from 0, one gone is left out). */
function slicesBetween(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [k, n] of after) total += n - (before.get(k) ?? 0);
  return total;
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const fields = (readText('/proc/stat') ?? '').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Resets VmHWM to the current RSS (`5` > /proc/PID/clear_refs, Linux ≥ 4.0), so that the peak read
 * later covers the window only. Returns false if the kernel refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function treeTicks(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const p of pids) {
    const t = cpuTicks(p);
    if (t === undefined) return undefined;
    total += t;
  }
  return total;
}

/**
 * Measures `seconds` of running processes (`pids`, summed): CPU ticks and wire counters at both
 * ends, sampled every 500 ms so that a process that dies mid-window still yields the part measured
 * before. VmHWM is read, then reset, at the start, so the peak reported is the window's own.
 */
export async function measureWindow(wire: WireWitness, pids: readonly number[], seconds: number): Promise<WindowSample> {
  const hz = clockTicksPerSecond();
  const beforeKb = pids.reduce((acc, p) => acc + (peakRssKb(p) ?? 0), 0);
  const peakReset = pids.map(resetPeakRss).every((ok) => ok);
  const m0 = machineJiffies();
  const c0 = treeTicks(pids);
  const s0 = runSlices(pids);
  let s1 = s0;
  const w0 = await wire.read();
  if (c0 === undefined) {
    return {
      seconds: 0, cpuSeconds: Number.NaN, wirePackets: 0, wireReplies: 0, wireRxDropped: 0, peakRssMb: Number.NaN, rssEndMb: Number.NaN,
      peakBeforeMb: Number.NaN, peakReset: false, complete: false, machineBusyCores: Number.NaN, wakeupsPerS: Number.NaN,
    };
  }
  let lastTicks = c0;
  let hwmKb = 0;
  let nowKb = 0;
  let complete = true;
  const endAt = w0.atMs + seconds * 1000;
  while (performance.now() < endAt) {
    await sleep(Math.min(500, Math.max(1, endAt - performance.now())));
    const t = treeTicks(pids);
    if (t === undefined) {
      complete = false;
      break;
    }
    lastTicks = t;
    s1 = runSlices(pids);
    hwmKb = pids.reduce((acc, p) => acc + (peakRssKb(p) ?? 0), 0);
    nowKb = pids.reduce((acc, p) => acc + (rssKb(p) ?? 0), 0);
  }
  const w1 = await wire.read();
  const m1 = machineJiffies();
  const elapsedS = (w1.atMs - w0.atMs) / 1000;
  return {
    seconds: elapsedS,
    cpuSeconds: (lastTicks - c0) / hz,
    wirePackets: w1.probes - w0.probes,
    wireReplies: w1.replies - w0.replies,
    wireRxDropped: w1.rxDropped - w0.rxDropped,
    peakRssMb: (hwmKb * 1024) / 1e6,
    rssEndMb: (nowKb * 1024) / 1e6,
    peakBeforeMb: (beforeKb * 1024) / 1e6,
    peakReset,
    complete,
    machineBusyCores: (m1.busy - m0.busy) / hz / elapsedS,
    wakeupsPerS: slicesBetween(s0, s1) / elapsedS,
  };
}
