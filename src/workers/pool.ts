/**
 * The one piscina pool of the process. Created in app.ts, passed to whoever needs CPU work.
 * piscina is imported and its pool made at the first task: a probing-only config may never hand
 * one over (frame batches decode inline up to 64 KB), and the pool's module and its two run/wait
 * histograms (~0.7 MB of native memory) count in the process's floor (issue 14).
 */
import type { Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { TaskMap, TaskName } from './protocol.js';

export interface WorkerPool {
  /** runs a task; decoding tasks are bounded by their input size and need no timer per task */
  run<K extends TaskName>(name: K, input: TaskMap[K]['in'], transfer?: readonly ArrayBuffer[]): Promise<TaskMap[K]['out']>;
  readonly threads: number;
  /** tasks completed so far */
  completed(): number;
  close(): Promise<void>;
}

export interface PoolOptions {
  readonly minThreads: number;
  readonly maxThreads: number;
  /** loads piscina's module (injected by tests; the default imports the package) */
  readonly loadPiscina?: () => Promise<{ readonly Piscina: typeof Piscina }>;
}

/** how long close() waits for the first workers to finish loading */
const LOAD_WAIT_MS = 5000;

/**
 * Resolves when each worker has posted its first message (piscina's "ready", sent once the task
 * module is loaded) or has exited. Terminating a worker while Node loads its ES module aborts the
 * whole process (V8 "IsGraphAsync" fatal error, Node 20), which an early stop (a failed start)
 * would otherwise risk.
 */
function loaded(workers: readonly Worker[]): Promise<void> {
  return Promise.all(
    workers.map((w) => new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.once('exit', () => resolve());
    })),
  ).then(() => undefined);
}

interface Opened {
  readonly piscina: Piscina;
  /** the first workers have loaded their task module (see loaded) */
  readonly ready: Promise<void>;
}

export function createWorkerPool(opts: PoolOptions): WorkerPool {
  let opening: Promise<Opened> | null = null;
  let opened: Opened | null = null;
  let closed = false;
  const open = (): Promise<Opened> => {
    if (closed) return Promise.reject(new AppError(ErrorCodes.SVC_ERR_STATE, 'worker pool closed'));
    return (opening ??= (opts.loadPiscina ?? (() => import('piscina')))().then(({ Piscina: Pool }) => {
      const piscina = new Pool({
        filename: new URL('./tasks.js', import.meta.url).href,
        minThreads: opts.minThreads,
        maxThreads: opts.maxThreads,
        idleTimeout: 60_000,
      });
      opened = { piscina, ready: loaded(piscina.threads) };
      return opened;
    }, (e: unknown) => {
      // kept: a pool that cannot load fails every task the same way, and close() has nothing to stop
      throw new AppError(ErrorCodes.SVC_ERR_START, `worker pool could not start: ${errorMessage(e)}`, { cause: e });
    }));
  };
  // an eager start that fails surfaces at the first task, not as an unhandled rejection
  if (opts.minThreads > 0) open().catch(() => undefined);
  return {
    threads: opts.maxThreads,
    async run(name, input, transfer) {
      const { piscina } = await open();
      return piscina.run(input, {
        name,
        ...(transfer ? { transferList: transfer as ArrayBuffer[] } : {}),
      }) as Promise<TaskMap[typeof name]['out']>;
    },
    completed: () => opened?.piscina.completed ?? 0,
    async close() {
      closed = true;
      if (opening === null) return;
      const started = await opening.catch(() => null);
      if (started === null) return;
      const { piscina, ready } = started;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, LOAD_WAIT_MS);
      });
      await Promise.race([ready, bound]);
      clearTimeout(timer);
      await piscina.destroy();
    },
  };
}
