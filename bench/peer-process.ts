// The peer tools' common run: one or more CLI processes in the lab's probe namespace, each under a
// `timeout -s INT` wrapper (which forks the tool), a warm-up, the measured window over the tool
// processes themselves, then the wait for their exit (bounded; SIGKILL by PID past the bound).
import { sleep, type Lab, type LabProcess } from '../test/lab/index.js';
import type { WireWitness } from './probe-types.js';
import { findProcess, measureWindow, type WindowSample } from './proc-stats.js';

export interface PeerRunOptions {
  /** the tool's process name (`comm`), to find it below its `timeout` wrapper */
  readonly comm: string;
  /** one argv per process, the tool first */
  readonly argvs: readonly (readonly string[])[];
  /** `timeout` bound of every process, seconds */
  readonly boundS: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly wire: WireWitness;
  /** loop mode: SIGINT after the window makes the tool print its summary and exit */
  readonly interruptAfterWindow: boolean;
  readonly log: (msg: string) => void;
}

export interface PeerRun {
  /** the `timeout` wrappers: exit codes and the tools' output (the tool inherits their pipes) */
  readonly procs: readonly LabProcess[];
  /** undefined when no process was found or one exited before the window */
  readonly win: WindowSample | undefined;
  readonly interrupted: boolean;
}

async function within<T>(p: Promise<T>, ms: number): Promise<boolean> {
  const r = await Promise.race([p.then(() => 'done' as const), sleep(ms).then(() => 'timeout' as const)]);
  return r === 'done';
}

function kill(pid: number | undefined, proc: LabProcess, signal: NodeJS.Signals): void {
  if (pid === undefined || proc.exitCode !== undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export async function runPeerProcesses(lab: Lab, o: PeerRunOptions): Promise<PeerRun> {
  const procs = o.argvs.map((argv) => lab.spawn('probe', ['timeout', '-s', 'INT', String(o.boundS), ...argv]));
  let pids: (number | undefined)[] = [];
  try {
    pids = await Promise.all(procs.map((p) => findProcess(p.pid, o.comm, 3000)));
    const found = pids.filter((p): p is number => p !== undefined);
    let win: WindowSample | undefined;
    let interrupted = false;
    if (found.length === procs.length && !(await within(Promise.race(procs.map((p) => p.exited)), o.warmupS * 1000))) {
      win = await measureWindow(o.wire, found, o.windowS);
      if (o.interruptAfterWindow) {
        procs.forEach((p, i) => kill(pids[i], p, 'SIGINT'));
        interrupted = true;
      }
    }
    if (!(await within(Promise.all(procs.map((p) => p.exited)), (o.boundS + 5) * 1000))) {
      o.log(`${o.comm} did not exit within ${o.boundS + 5} s; killing it (PIDs ${pids.join(', ')})`);
      procs.forEach((p, i) => kill(pids[i], p, 'SIGKILL'));
      await Promise.all(procs.map((p) => p.stop('SIGKILL', 3000)));
    }
    return { procs, win, interrupted };
  } catch (e) {
    procs.forEach((p, i) => kill(pids[i], p, 'SIGKILL'));
    await Promise.all(procs.map((p) => p.stop('SIGKILL', 3000)));
    throw e;
  }
}
