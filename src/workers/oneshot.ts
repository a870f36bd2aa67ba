/**
 * Runs one task in a thread of its own that ends with it. For rare, memory-hungry work (parsing
 * a config of 10 000 targets peaks at ~100 MB of heap): the memory goes away with the thread
 * instead of staying in a pool worker's heap or ours.
 */
import { Worker } from 'node:worker_threads';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { OneShotTaskName, TaskMap } from './protocol.js';

export function runOneShot<K extends OneShotTaskName>(name: K, input: TaskMap[K]['in'], timeoutMs: number): Promise<TaskMap[K]['out']> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./oneshot-entry.js', import.meta.url), { workerData: { name, input } });
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      void worker.terminate();
      reject(new AppError(ErrorCodes.OP_ERR_TIMEOUT, `${name}: no result within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (m: TaskMap[K]['out']) => {
      settled = true;
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      if (!settled) reject(e);
      settled = true;
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      if (!settled) reject(new AppError(ErrorCodes.OP_ERR_TIMEOUT, `${name}: worker exited with code ${code} and no result`));
      settled = true;
    });
  });
}
