/**
 * The one piscina pool of the process. Created in app.ts, passed to whoever needs CPU work.
 */
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

export function createWorkerPool(opts: PoolOptions): WorkerPool {
  const piscina = new Piscina({
    filename: new URL('./tasks.js', import.meta.url).href,
    minThreads: opts.minThreads,
    maxThreads: opts.maxThreads,
    idleTimeout: 60_000,
  });
  return {
    threads: opts.maxThreads,
    run(name, input, transfer) {
      return piscina.run(input, {
        name,
        ...(transfer ? { transferList: transfer as ArrayBuffer[] } : {}),
      }) as Promise<TaskMap[typeof name]['out']>;
    },
    completed: () => piscina.completed,
    close: () => piscina.destroy(),
  };
}
