/** Entry of a one-shot worker thread: runs one named task of tasks.ts, posts the result, ends. */
import { parentPort, workerData } from 'node:worker_threads';
import { handlers } from './tasks.js';
import type { TaskName } from './protocol.js';

const { name, input } = workerData as { name: TaskName; input: never };
const result: unknown = await handlers[name](input);
parentPort?.postMessage(result);
