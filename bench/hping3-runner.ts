// hping3, the TCP SYN (and UDP) peer, in the lab's probe namespace. hping3 probes one destination per
// process, so a step runs `procs` processes at rate/procs each, spread over the step's targets
// (process j probes target ⌊j·N/procs⌋), in count mode; loss is summed from their statistics on
// stderr (printed when the bench sends SIGINT after the window), CPU (utime+stime) and peak RSS
// (VmHWM) from /proc of the hping3 processes themselves.
// hping3 has no average-rate control: `-i uX` waits X µs after each send, and its own per-packet
// work (30–50 µs here, not the timer slack) comes on top, so it sends 65–90 % of the nominal rate
// procs × 10^6 / X. The requested column is that nominal rate; there is no rate criterion for
// hping3 (its row passes on loss and a clean exit), and its rate is the achieved one.
// (`--rand-dest` would spread one process over many addresses, but its reply accounting is wrong:
// in this lab it reported 1 % loss at 1 000 UDP probes/s and 99 % at 36 000 SYN/s with every
// answer on the wire.)
import type { Lab, LabProcess } from '../test/lab/index.js';
import { runPeerProcesses } from './peer-process.js';
import { parseHping3Summary } from './hping3-summary.js';
import { BENCH_TYPES, type BenchType, type WireWitness } from './probe-types.js';
import { windowFields, windowNotes, type StepResult } from './report.js';

export interface Hping3StepOptions {
  readonly type: BenchType;
  readonly addresses: readonly string[];
  /** nominal probes/s over all processes */
  readonly rate: number;
  readonly procs: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly wire: WireWitness;
  readonly log: (msg: string) => void;
}

interface Hping3Plan {
  readonly procs: number;
  readonly intervalUs: number;
  readonly count: number;
  readonly boundS: number;
  readonly destinations: string[];
}

function plan(o: Hping3StepOptions): Hping3Plan {
  const n = o.addresses.length;
  const procs = Math.max(1, Math.min(o.procs, n));
  const perProc = o.rate / procs;
  // -i takes whole microseconds: the rate asked of each process is 1e6 / intervalUs
  const intervalUs = Math.max(1, Math.round(1e6 / perProc));
  // a bound only: SIGINT ends each process after the window (hping3 then prints its statistics)
  const count = Math.max(1, Math.ceil(((o.warmupS + o.windowS + 10) * 1e6) / intervalUs));
  const destinations = Array.from({ length: procs }, (_, j) => o.addresses[Math.floor((j * n) / procs)] as string);
  return { procs, intervalUs, count, boundS: Math.ceil((count * intervalUs) / 1e6) * 2 + 10, destinations };
}

/**
 * Sums the processes' statistics; reasons for failure (missing statistics, errors, exit codes). The
 * probes in flight at the SIGINT count as lost (at 25 000/s and ~0.1 ms RTT, a few per process).
 */
function collect(procs: readonly LabProcess[]): { xmt: number; rcv: number; reasons: string[] } {
  let xmt = 0;
  let rcv = 0;
  const reasons: string[] = [];
  for (const p of procs) {
    const s = parseHping3Summary(p.stderr);
    const code = p.exitCode ?? -1;
    if (s.errors[0] !== undefined) reasons.push(`${s.errors[0].slice(0, 50)} (exit ${code})`);
    else if (s.stats === undefined) reasons.push(`no statistics (exit ${code})`);
    else if (![0, 1].includes(code)) reasons.push(`exit ${code}`);
    xmt += s.stats?.xmt ?? 0;
    rcv += s.stats?.rcv ?? 0;
  }
  return { xmt, rcv, reasons: [...new Set(reasons)] };
}

export async function runHping3Step(lab: Lab, o: Hping3StepOptions): Promise<StepResult> {
  const p = plan(o);
  const flags = ['-q', ...BENCH_TYPES[o.type].hping3Flags, '-i', `u${p.intervalUs}`, '-c', String(p.count), '-I', lab.probeIf];
  const params = `${p.procs} × hping3 ${flags.join(' ')} <one target each>`;
  const run = await runPeerProcesses(lab, {
    comm: 'hping3', argvs: p.destinations.map((d) => ['hping3', ...flags, d]), boundS: p.boundS, warmupS: o.warmupS, windowS: o.windowS,
    wire: o.wire, interruptAfterWindow: true, log: o.log,
  });
  const { xmt, rcv, reasons } = collect(run.procs);
  const fields = windowFields(run.win);
  const lossPct = xmt > 0 ? (100 * (xmt - rcv)) / xmt : Number.NaN;
  if (run.win === undefined || !run.win.complete) reasons.push('exited before the window ended');
  if (xmt === 0 && reasons.length === 0) reasons.push('nothing sent');
  if (lossPct > 0.1) reasons.push(`loss ${lossPct.toFixed(2)} %`);
  // no rate criterion: -i is a gap after each send, not an average rate (see the header)
  const notes = [...reasons, `${((100 * fields.achieved) / o.rate).toFixed(0)} % of nominal`, ...windowNotes(run.win)];
  if (reasons.length > 0) o.log(`hping3 step: ${reasons.join(', ')}`);
  return {
    tool: 'hping3', type: o.type, kind: 'sweep', targets: o.addresses.length, requested: o.rate, params,
    ...fields,
    sent: xmt,
    lost: xmt - rcv,
    lossPct,
    pass: reasons.length === 0,
    note: notes.join('; '),
  };
}
