/** Entry of the config thread (workers/config-loader.ts): the loadConfig task. */
import type { TaskMap, ThreadTaskName } from './protocol.js';
import { serveTasks } from './task-thread-serve.js';

serveTasks<Pick<TaskMap, ThreadTaskName>>({
  loadConfig: async () => (await import('./config-task.js')).loadConfig,
});
