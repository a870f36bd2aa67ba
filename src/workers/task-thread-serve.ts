/**
 * The thread side of task-thread.ts: answers each request with its task's result, one at a time,
 * until the parent ends the thread. Each task's module is imported at its first request, so the
 * thread loads only what its tasks need.
 */
import { parentPort } from 'node:worker_threads';

/** task name → its input and output (plain, structured-cloneable data) */
export type ThreadTaskTable = Record<string, { in: unknown; out: unknown }>;

export interface ThreadRequest {
  readonly name: string;
  readonly input: unknown;
  /** the thread ends once it has answered (its heap goes at once, not when the parent ends it) */
  readonly last: boolean;
}

/** per task, how to import its handler */
export type ThreadTaskModules<M extends ThreadTaskTable> = {
  readonly [K in keyof M]: () => Promise<(input: M[K]['in']) => M[K]['out'] | Promise<M[K]['out']>>;
};

export function serveTasks<M extends ThreadTaskTable>(modules: ThreadTaskModules<M>): void {
  const port = parentPort;
  // uncoded-error: a thread entry run as a main module is a build mistake, no caller can act on it
  if (port === null) throw new Error('serveTasks: not in a worker thread');
  const handlers = modules as Readonly<Record<string, () => Promise<(input: unknown) => unknown>>>;
  port.on('message', (m: ThreadRequest) => {
    const load = handlers[m.name];
    // uncoded-error: an uncaught error of the thread; the parent fails the task with it and ends the thread
    if (load === undefined) throw new Error(`serveTasks: no task ${JSON.stringify(m.name)}`);
    // a failed task is an uncaught error of the thread: the parent fails the task and ends the thread
    void load().then(async (handler) => {
      port.postMessage(await handler(m.input));
      if (m.last) port.close();
    });
  });
}
