/**
 * Bounded child processes for host checks: every command has a timeout, an output cap and an
 * AbortSignal; the child is killed (by PID, SIGKILL) when any of them trips. No shell.
 */
import { spawn } from 'node:child_process';
import { AppError, ErrorCodes } from './errors.js';

export interface ExecOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** stdout beyond this is an error (default 16 MiB) */
  readonly maxBytes?: number;
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type ExecFn = (argv: readonly string[], opts: ExecOptions) => Promise<ExecResult>;

/** Receives stdout chunks in order; may return a promise to apply backpressure. */
export type ChunkConsumer = (chunk: Buffer) => void | Promise<void>;

export type StreamFn = (
  argv: readonly string[],
  opts: Omit<ExecOptions, 'maxBytes'>,
  onChunk: ChunkConsumer,
) => Promise<Omit<ExecResult, 'stdout'>>;

const STDERR_CAP = 64 * 1024;
const DEFAULT_MAX = 16 * 1024 * 1024;

interface Running {
  readonly done: Promise<Omit<ExecResult, 'stdout'>>;
}

function start(argv: readonly string[], opts: Omit<ExecOptions, 'maxBytes'>, onChunk: ChunkConsumer, onFail: () => Error | null): Running {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new AppError(ErrorCodes.EXEC_ERR_SPAWN, 'empty command');
  const child = spawn(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ? { ...opts.env } : { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  let stderr = '';
  let failure: Error | null = null;
  const kill = (why: Error): void => {
    failure ??= why;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill(new AppError(ErrorCodes.OP_ERR_TIMEOUT, `${cmd}: timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
  const onAbort = (): void => kill(new AppError(ErrorCodes.OP_ERR_TIMEOUT, `${cmd}: aborted`));
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) onAbort();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < STDERR_CAP) stderr += s.slice(0, STDERR_CAP - stderr.length);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    const pending = onChunk(chunk);
    const over = onFail();
    if (over) kill(over);
    if (pending instanceof Promise) {
      child.stdout.pause();
      pending.then(
        () => child.stdout.resume(),
        (e: unknown) => {
          kill(e instanceof Error ? e : new Error(String(e)));
          child.stdout.resume();
        },
      );
    }
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  const done = new Promise<Omit<ExecResult, 'stdout'>>((resolve, reject) => {
    child.on('error', (e) => {
      failure ??= new AppError(ErrorCodes.EXEC_ERR_SPAWN, `${cmd}: ${e.message}`, { cause: e });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ code, signal, stderr });
    });
  });
  return { done };
}

/** Runs a command to completion and returns its output. */
export const execCommand: ExecFn = async (argv, opts) => {
  const max = opts.maxBytes ?? DEFAULT_MAX;
  const chunks: Buffer[] = [];
  let size = 0;
  const run = start(argv, opts, (c) => {
    size += c.length;
    if (size <= max) chunks.push(c);
  }, () => (size > max ? new AppError(ErrorCodes.EXEC_ERR_OUTPUT, `${argv[0]}: output over ${max} bytes`) : null));
  const r = await run.done;
  return { ...r, stdout: Buffer.concat(chunks).toString('utf8') };
};

/** Runs a command, handing stdout to `onChunk` as it arrives (with backpressure). */
export const streamCommand: StreamFn = (argv, opts, onChunk) => start(argv, opts, onChunk, () => null).done;
