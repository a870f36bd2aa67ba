/**
 * The one piscina pool of the process. Created in app.ts, passed to whoever needs CPU work.
 */
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
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

export function createWorkerPool(opts: PoolOptions): WorkerPool {
  const piscina = new Piscina({
    filename: new URL('./tasks.js', import.meta.url).href,
    minThreads: opts.minThreads,
    maxThreads: opts.maxThreads,
    idleTimeout: 60_000,
  });
  const ready = loaded(piscina.threads);
  return {
    threads: opts.maxThreads,
    run(name, input, transfer) {
      return piscina.run(input, {
        name,
        ...(transfer ? { transferList: transfer as ArrayBuffer[] } : {}),
      }) as Promise<TaskMap[typeof name]['out']>;
    },
    completed: () => piscina.completed,
    async close() {
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
