/** A process of task-thread.test.ts: runs one task in a thread that would stay idle for 10 min, prints its result. */
import { createTaskThread } from '../../../src/workers/task-thread.js';
import type { TestTasks } from './task-thread-tasks.js';

const th = createTaskThread<TestTasks>({ entry: new URL('./task-thread-tasks.js', import.meta.url), idleMs: 600_000 });
process.stdout.write(String(await th.run('threadId', null, 10_000)));
