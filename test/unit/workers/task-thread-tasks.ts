/** The thread of task-thread.test.ts: tasks that show which thread ran them, take time, or fail. */
import { resourceLimits, threadId } from 'node:worker_threads';
import { serveTasks } from '../../../src/workers/task-thread-serve.js';

// a type, not an interface: it must fit ThreadTaskTable's string index
export type TestTasks = {
  threadId: { in: null; out: number };
  /** the thread's young generation limit */
  youngGenerationMb: { in: null; out: number | undefined };
  /** answers `ms` after the request */
  sleep: { in: { ms: number }; out: number };
  /** fails: an uncaught error of the thread */
  crash: { in: null; out: never };
};

serveTasks<TestTasks>({
  threadId: () => Promise.resolve(() => threadId),
  youngGenerationMb: () => Promise.resolve(() => resourceLimits.maxYoungGenerationSizeMb),
  sleep: () => Promise.resolve(({ ms }: { ms: number }) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms))),
  crash: () => Promise.resolve(() => { throw new Error('task failed on purpose'); }),
});
