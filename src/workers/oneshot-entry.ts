/**
 * Entry of a one-shot worker thread: runs one named task, posts the result, ends. Each task's
 * module is imported on its own, so the thread loads only what that task needs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { OneShotTaskName, TaskHandler } from './protocol.js';

const modules: { [K in OneShotTaskName]: () => Promise<TaskHandler<K>> } = {
  loadConfig: async () => (await import('./config-task.js')).loadConfig,
};

const { name, input } = workerData as { name: OneShotTaskName; input: never };
const result: unknown = await (await modules[name]())(input);
parentPort?.postMessage(result);
