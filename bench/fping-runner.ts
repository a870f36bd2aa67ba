// fping in the lab's probe namespace on the same targets: count mode for the rate ladder, loop mode
// for the low-rate line. CPU and peak RSS are read from /proc of the fping process itself (it runs
// under `timeout`, which forks it), loss from its -q summary on stderr.
import { sleep, type Lab, type LabProcess } from '../test/lab/index.js';
import { findProcess, measureWindow, type WindowSample } from './proc-stats.js';
import type { StepResult } from './report.js';
import { alignedWindow } from './wireprobe-runner.js';

export interface FpingSummary {
  readonly hosts: number;
  readonly xmt: number;
  readonly rcv: number;
  /** stderr lines that are not per-target summaries (errors, e.g. "not enough sequence numbers"). */
  readonly errors: string[];
}

export function parseFpingSummary(stderr: string): FpingSummary {
  let hosts = 0;
  let xmt = 0;
  let rcv = 0;
  const errors: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /xmt\/rcv\/%loss = (\d+)\/(\d+)\//.exec(line);
    if (m !== null) {
      hosts++;
      xmt += Number(m[1]);
      rcv += Number(m[2]);
    } else if (line.trim() !== '') {
      errors.push(line.trim());
    }
  }
  return { hosts, xmt, rcv, errors };
}

/** Milliseconds as fping takes them (fractions are accepted when run as root). */
const ms = (v: number): string => String(Number(v.toFixed(4)));

export interface FpingStepOptions {
  readonly kind: 'sweep' | 'low-rate';
  readonly targets: number;
  readonly targetsFile: string;
  /** sweep: probes/s; low-rate: ignored (the rate is targets / 10 s). */
  readonly rate: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly log: (msg: string) => void;
}

async function exitedWithin(proc: LabProcess, msBound: number): Promise<boolean> {
  const r = await Promise.race([proc.exited.then(() => 'exited' as const), sleep(msBound).then(() => 'timeout' as const)]);
  return r === 'exited';
}

export async function runFpingStep(lab: Lab, o: FpingStepOptions): Promise<StepResult> {
  const n = o.targets;
  let requested: number;
  let windowS: number;
  let fpingArgs: string[];
  let boundS: number;
  if (o.kind === 'sweep') {
    // -p (per-target period) sets the average rate exactly; -i (minimum gap between any two sends) is
    // half the average gap, so that fping's own per-packet overhead does not cap the rate below it.
    const periodMs = (n * 1000) / o.rate;
    windowS = alignedWindow(o.windowS, periodMs / 1000);
    const count = Math.max(1, Math.ceil(((o.warmupS + windowS + 2) * 1000) / periodMs));
    boundS = Math.ceil((count * periodMs) / 1000) * 2 + 10;
    requested = o.rate;
    fpingArgs = ['-q', '-c', String(count), '-p', ms(periodMs), '-i', ms(500 / o.rate), '-t', '500', '-f', o.targetsFile];
  } else {
    windowS = alignedWindow(o.windowS, 10);
    boundS = o.warmupS + windowS + 30;
    requested = n / 10;
    fpingArgs = ['-q', '-l', '-p', '10000', '-i', '1', '-t', '1000', '-f', o.targetsFile];
  }
  const params = `fping ${fpingArgs.slice(0, -2).join(' ')}`;
  const base = { tool: 'fping' as const, kind: o.kind, targets: n, requested, params };
  const proc = lab.spawn('probe', ['timeout', '-s', 'INT', String(boundS), 'fping', ...fpingArgs]);
  const pid = await findProcess(proc.pid, 'fping', 3000);
  let win: WindowSample | undefined;
  let interrupted = false;
  try {
    if (pid !== undefined && !(await exitedWithin(proc, o.warmupS * 1000))) {
      win = await measureWindow(lab, pid, windowS, false);
      if (o.kind === 'low-rate' && proc.exitCode === undefined) {
        // loop mode: SIGINT makes fping print its per-target summary and exit
        process.kill(pid, 'SIGINT');
        interrupted = true;
      }
    }
    if (!(await exitedWithin(proc, (boundS + 5) * 1000))) {
      o.log(`fping did not exit within ${boundS + 5} s; killing it (PID ${pid ?? proc.pid})`);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      await proc.stop('SIGKILL', 3000);
    }
  } catch (e) {
    if (pid !== undefined && proc.exitCode === undefined) process.kill(pid, 'SIGKILL');
    await proc.stop('SIGKILL', 3000);
    throw e;
  }

  const code = proc.exitCode ?? -1;
  const summary = parseFpingSummary(proc.stderr);
  const lossPct = summary.xmt > 0 ? (100 * (summary.xmt - summary.rcv)) / summary.xmt : Number.NaN;
  const achieved = win === undefined || win.seconds <= 0 ? Number.NaN : win.wirePackets / win.seconds;
  const reasons: string[] = [];
  const firstError = summary.errors[0];
  const expectedCodes = interrupted ? [0, 1, 124, 130] : [0, 1];
  if (firstError !== undefined) {
    // e.g. "fping error: not enough sequence numbers available! (expire_timeout=…)": fping aborted
    reasons.push(`${firstError.replace(/^fping error: /, '').replace(/\s*\(.*$/, '').slice(0, 50)} (exit ${code})`);
  } else if (!expectedCodes.includes(code)) {
    reasons.push(`exit ${code}`);
  } else if (win === undefined || !win.complete) {
    reasons.push('exited before the window ended');
  }
  if (summary.xmt === 0 && reasons.length === 0) reasons.push('nothing sent');
  if (lossPct > 0.1) reasons.push(`loss ${lossPct.toFixed(2)} %`);
  if (o.kind === 'sweep' && !(achieved >= 0.95 * requested)) reasons.push(`rate ${((100 * achieved) / requested).toFixed(0)} %`);
  const notes = [...reasons];
  if (win !== undefined && !win.peakReset) notes.push('VmHWM not reset: peak since start');
  if (o.kind === 'low-rate' && achieved < 0.95 * requested) notes.push('-i 1 ms gap + overhead caps the rate');
  if (reasons.length > 0) o.log(`fping step: exit ${code}; ${reasons.join(', ')}`);
  const cpuSeconds = win?.cpuSeconds ?? Number.NaN;
  const seconds = win?.seconds ?? Number.NaN;
  return {
    ...base,
    achieved,
    sent: summary.xmt,
    lost: summary.xmt - summary.rcv,
    lossPct,
    windowSeconds: seconds,
    cpuSeconds,
    cpuMsPer1000: win === undefined ? Number.NaN : (1000 * cpuSeconds) / (win.wirePackets / 1000),
    corePct: (100 * cpuSeconds) / seconds,
    peakRssMb: win?.peakRssMb ?? Number.NaN,
    rssEndMb: win?.rssEndMb ?? Number.NaN,
    peakSinceStartMb: win === undefined ? Number.NaN : Math.max(win.peakRssMb, win.peakBeforeMb),
    pass: o.kind === 'sweep' ? reasons.length === 0 : undefined,
    note: notes.join('; '),
  };
}
