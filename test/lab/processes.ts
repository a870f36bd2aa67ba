// Child-process helpers for the lab: bounded commands, tracked long-running processes, PID checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Kill the command (SIGKILL, by PID) after this many ms; default 15 000. Exit code is then 124. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Output kept per stream; older output is discarded (with a marker) beyond this. */
const MAX_CAPTURE = 32 * 1024 * 1024;

class Capture {
  #text = '';
  #dropped = 0;
  append(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > MAX_CAPTURE) {
      const cut = this.#text.length - MAX_CAPTURE / 2;
      this.#dropped += cut;
      this.#text = this.#text.slice(cut);
    }
  }
  get text(): string {
    return this.#dropped === 0 ? this.#text : `[... ${this.#dropped} chars dropped ...]\n${this.#text}`;
  }
}

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (osConstants.signals[signal] ?? 0);
  return -1;
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The fields of /proc/<pid>/stat after the command name: [0] is field 3 (state); undefined if the process is gone. */
export function procStatFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined if the process is gone. */
export function processStartTime(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

/** True if `pid` runs and (when given) started at `startTime` — guards against PID reuse. */
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean {
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return startTime === undefined || now === startTime;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Runs argv to completion, bounded in time; never throws for a non-zero exit (see runChecked). */
export function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve) => {
    const out = new Capture();
    const err = new Capture();
    let timedOut = false;
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
        ...(opts.env === undefined ? {} : { env: opts.env }),
      });
    } catch (e) {
      resolve({ code: 127, stdout: '', stderr: String(e) });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killPid(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => out.append(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => err.append(d));
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: out.text, stderr: `${err.text}${String(e)}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const suffix = timedOut ? `\n[lab] ${argv.join(' ')}: killed after ${timeoutMs} ms` : '';
      resolve({ code: timedOut ? 124 : exitCodeOf(code, signal), stdout: out.text, stderr: err.text + suffix });
    });
  });
}

/** Like runCommand but throws (with the command, exit code and stderr) unless the exit code is 0. */
export async function runChecked(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runCommand(argv, opts);
  if (r.code !== 0) {
    throw new Error(`command failed (exit ${r.code}): ${argv.join(' ')}\n${r.stderr.trim()}${r.stdout.trim() === '' ? '' : `\n${r.stdout.trim()}`}`);
  }
  return r;
}

export interface LabProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  readonly stdout: string;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** Resolves with the exit code (128 + signal number when killed by a signal). */
  readonly exited: Promise<number>;
  /** undefined while running. */
  readonly exitCode: number | undefined;
  /**
   * Sends `signal` (default SIGTERM) by PID, waits up to `graceMs` (default 10 000) for the exit,
   * then SIGKILL by PID; resolves with the exit code. Safe to call after the process has exited.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
  /** Resolves when `pattern` appears on stdout or stderr; rejects on exit or after timeoutMs. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function spawnProcess(argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('spawnProcess: empty argv');
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });
  const pid = child.pid;
  if (pid === undefined) {
    child.on('error', () => undefined);
    throw new Error(`could not start ${argv.join(' ')}`);
  }
  const out = new Capture();
  const err = new Capture();
  const listeners = new Set<() => void>();
  let exitCode: number | undefined;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out.append(d);
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err.append(d);
    for (const l of listeners) l();
  });
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => {
      err.append(String(e));
      exitCode ??= 127;
      resolve(exitCode);
    });
    // Prefer 'close' (stdio drained, so the captured output is complete), but do not wait more than
    // 2 s after 'exit' in case a grandchild inherited the pipes.
    let code: number | undefined;
    const finish = (): void => {
      exitCode ??= code ?? -1;
      resolve(exitCode);
      for (const l of listeners) l();
    };
    child.on('exit', (c, signal) => {
      code = exitCodeOf(c, signal);
      setTimeout(finish, 2000).unref();
    });
    child.on('close', (c, signal) => {
      code ??= exitCodeOf(c, signal);
      finish();
    });
  });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number> => {
    if (exitCode !== undefined) return exitCode;
    killPid(pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const first = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    killPid(pid, 'SIGKILL');
    return exited;
  };

  const waitForOutput = (pattern: RegExp, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(out.text) || pattern.test(err.text)) {
          done();
          resolve();
        } else if (exitCode !== undefined) {
          done();
          reject(new Error(`${argv.join(' ')} exited (${exitCode}) before printing ${String(pattern)}\nstdout: ${out.text}\nstderr: ${err.text}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${argv.join(' ')}: no ${String(pattern)} within ${timeoutMs} ms\nstdout: ${out.text}\nstderr: ${err.text}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    pid,
    child,
    get stdout() {
      return out.text;
    },
    get stderr() {
      return err.text;
    },
    exited,
    get exitCode() {
      return exitCode;
    },
    stop,
    waitForOutput,
  };
}
