// fping in the lab's probe namespace on the same targets: count mode for the rate ladder, loop mode
// for the low-rate line. CPU and peak RSS are read from /proc of the fping process itself (it runs
// under `timeout`, which forks it), loss from its -q summary on stderr.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '../test/lab/index.js';
import { runPeerProcesses } from './peer-process.js';
import type { WireWitness } from './probe-types.js';
import { windowFields, windowNotes, type StepResult } from './report.js';
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
  readonly wire: WireWitness;
  readonly log: (msg: string) => void;
}

interface FpingPlan {
  readonly requested: number;
  readonly windowS: number;
  readonly boundS: number;
  readonly args: string[];
}

function plan(o: FpingStepOptions): FpingPlan {
  if (o.kind === 'sweep') {
    // -p (per-target period) sets the average rate exactly; -i (minimum gap between any two sends) is
    // half the average gap, so that fping's own per-packet overhead does not cap the rate below it.
    const periodMs = (o.targets * 1000) / o.rate;
    const windowS = alignedWindow(o.windowS, periodMs / 1000);
    const count = Math.max(1, Math.ceil(((o.warmupS + windowS + 2) * 1000) / periodMs));
    return {
      requested: o.rate,
      windowS,
      boundS: Math.ceil((count * periodMs) / 1000) * 2 + 10,
      args: ['-q', '-c', String(count), '-p', ms(periodMs), '-i', ms(500 / o.rate), '-t', '500', '-f', o.targetsFile],
    };
  }
  const windowS = alignedWindow(o.windowS, 10);
  return { requested: o.targets / 10, windowS, boundS: o.warmupS + windowS + 30, args: ['-q', '-l', '-p', '10000', '-i', '1', '-t', '1000', '-f', o.targetsFile] };
}

export async function runFpingStep(lab: Lab, o: FpingStepOptions): Promise<StepResult> {
  const p = plan(o);
  const params = `fping ${p.args.slice(0, -2).join(' ')}`;
  const run = await runPeerProcesses(lab, {
    comm: 'fping', argvs: [['fping', ...p.args]], boundS: p.boundS, warmupS: o.warmupS, windowS: p.windowS, wire: o.wire,
    interruptAfterWindow: o.kind === 'low-rate', log: o.log,
  });
  const proc = run.procs[0] as LabProcess;
  const code = proc.exitCode ?? -1;
  const summary = parseFpingSummary(proc.stderr);
  const lossPct = summary.xmt > 0 ? (100 * (summary.xmt - summary.rcv)) / summary.xmt : Number.NaN;
  const fields = windowFields(run.win);
  const reasons: string[] = [];
  const firstError = summary.errors[0];
  const expectedCodes = run.interrupted ? [0, 1, 124, 130] : [0, 1];
  if (firstError !== undefined) {
    // e.g. "fping error: not enough sequence numbers available! (expire_timeout=…)": fping aborted
    reasons.push(`${firstError.replace(/^fping error: /, '').replace(/\s*\(.*$/, '').slice(0, 50)} (exit ${code})`);
  } else if (!expectedCodes.includes(code)) {
    reasons.push(`exit ${code}`);
  } else if (run.win === undefined || !run.win.complete) {
    reasons.push('exited before the window ended');
  }
  if (summary.xmt === 0 && reasons.length === 0) reasons.push('nothing sent');
  if (lossPct > 0.1) reasons.push(`loss ${lossPct.toFixed(2)} %`);
  if (o.kind === 'sweep' && !(fields.achieved >= 0.95 * p.requested)) reasons.push(`rate ${((100 * fields.achieved) / p.requested).toFixed(0)} %`);
  const notes = [...reasons, ...windowNotes(run.win)];
  if (o.kind === 'low-rate' && fields.achieved < 0.95 * p.requested) notes.push('-i 1 ms gap + overhead caps the rate');
  if (reasons.length > 0) o.log(`fping step: exit ${code}; ${reasons.join(', ')}`);
  return {
    tool: 'fping', type: 'ICMPping', kind: o.kind, targets: o.targets, requested: p.requested, params,
    ...fields,
    sent: summary.xmt,
    lost: summary.xmt - summary.rcv,
    lossPct,
    pass: o.kind === 'sweep' ? reasons.length === 0 : undefined,
    note: notes.join('; '),
  };
}

/** fping's low-rate line (each of `addresses` once every 10 s) in the lab's probe namespace. */
export function runFpingLowRate(lab: Lab, addresses: readonly string[], o: Pick<FpingStepOptions, 'warmupS' | 'windowS' | 'wire' | 'log'>): Promise<StepResult> {
  const targetsFile = join(lab.tmpDir, 'targets.txt');
  writeFileSync(targetsFile, `${addresses.join('\n')}\n`);
  return runFpingStep(lab, { kind: 'low-rate', targets: addresses.length, targetsFile, rate: 0, ...o });
}
