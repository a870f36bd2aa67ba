/**
 * A worker thread of its own for rare, memory-hungry tasks (parsing a config of 10 000 targets
 * peaks at ~50 MB of heap): the memory stays out of the pool workers' heaps and ours, and goes
 * away with the thread, which ends `idleMs` after its last task. Tasks close together (reloads in
 * a row) share one thread and what it compiled once (the config schema) instead of paying a
 * thread start and a compile each, with the RSS up and down by the thread's 10–20 MB at each
 * (bench/README.md, reload-churn). Tasks run one at a time, in call order; each is bounded by its
 * timeout, which ends the thread (the next task gets a fresh one).
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { ThreadRequest, ThreadTaskTable } from './task-thread-serve.js';

export interface TaskThread<M extends ThreadTaskTable> {
  /**
   * `last`: the thread ends as soon as it has answered, its heap with it (a task known to be
   * alone, such as the start-up config load: the parent's own work on the result would otherwise
   * stack on the thread's heap until the idle time runs out)
   */
  run<K extends keyof M & string>(name: K, input: M[K]['in'], timeoutMs: number, last?: boolean): Promise<M[K]['out']>;
  /** threads started so far */
  started(): number;
  /** a thread is alive (running a task or idle) */
  alive(): boolean;
  /** ends the thread; a later run() starts a new one */
  close(): Promise<void>;
}

export interface TaskThreadOptions {
  /** the thread's module: it calls serveTasks() (task-thread-serve.ts) with the tasks of M */
  readonly entry: URL;
  /** the thread ends after this long without a task */
  readonly idleMs: number;
  /** V8 heap limits of the thread */
  readonly resourceLimits?: ResourceLimits;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: Error) => void;
}

export function createTaskThread<M extends ThreadTaskTable>(opts: TaskThreadOptions): TaskThread<M> {
  let worker: Worker | null = null;
  /** the task the thread runs */
  let pending: Pending | null = null;
  let idle: NodeJS.Timeout | undefined;
  let started = 0;
  /** the tasks in call order: each starts when the one before has settled */
  let queue: Promise<unknown> = Promise.resolve();

  /** ends thread `w`; if it is the current one, its task (if any) fails with `e` */
  const end = (w: Worker, e?: Error): Promise<number> => {
    if (worker === w) {
      worker = null;
      const p = pending;
      pending = null;
      p?.reject(e ?? new AppError(ErrorCodes.SVC_ERR_STATE, 'task thread closed'));
    }
    return w.terminate();
  };

  const spawn = (): Worker => {
    const w = new Worker(opts.entry, opts.resourceLimits === undefined ? {} : { resourceLimits: opts.resourceLimits });
    started++;
    w.on('message', (m: unknown) => {
      if (worker !== w) return;
      const p = pending;
      pending = null;
      p?.resolve(m);
    });
    w.on('error', (e) => void end(w, e));
    w.on('exit', (code) => void end(w, new AppError(ErrorCodes.OP_ERR_TIMEOUT, `task thread exited with code ${code} and no result`)));
    return w;
  };

  const runNow = (name: string, input: unknown, timeoutMs: number, last: boolean): Promise<unknown> =>
    new Promise((resolve, reject) => {
      clearTimeout(idle);
      const w = worker ?? spawn();
      worker = w;
      w.ref();
      const timer = setTimeout(() => void end(w, new AppError(ErrorCodes.OP_ERR_TIMEOUT, `${name}: no result within ${timeoutMs} ms`)), timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        if (worker !== w) return;
        if (last) {
          // it ends by itself: the next task starts a new thread
          worker = null;
          return;
        }
        // an idle thread does not keep the process alive, and ends after idleMs
        w.unref();
        idle = setTimeout(() => void end(w), opts.idleMs);
        idle.unref();
      };
      pending = {
        resolve: (m) => { settle(); resolve(m); },
        reject: (e) => { settle(); reject(e); },
      };
      const request: ThreadRequest = { name, input, last };
      w.postMessage(request);
    });

  return {
    run(name, input, timeoutMs, last = false) {
      const result = queue.then(() => runNow(name, input, timeoutMs, last));
      queue = result.catch(() => undefined);
      return result;
    },
    started: () => started,
    alive: () => worker !== null,
    async close() {
      clearTimeout(idle);
      if (worker !== null) await end(worker);
    },
  };
}
