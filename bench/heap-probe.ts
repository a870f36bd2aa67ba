// A module preloaded into wireprobe (NODE_OPTIONS --import) that writes the main thread's memory
// to a file every 500 ms: process.memoryUsage() and v8.getHeapStatistics(), no heap snapshot
// needed. --import also runs in every worker thread; only the main thread writes, so the file
// never holds a worker's heap. On request it also writes a heap snapshot of the main thread: the
// bench writes the snapshot's path into `<file>.snapshot` (not a signal: --heapsnapshot-signal
// killed wireprobe after a snapshot, the worker threads' exit resetting the handler).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MainThreadHeap extends NodeJS.MemoryUsage {
  /** v8.getHeapStatistics() of the main isolate */
  v8: { total_heap_size: number; used_heap_size: number; malloced_memory: number; number_of_native_contexts: number; number_of_detached_contexts: number };
}

/** The text of the preloaded module, writing to `out`. */
export function heapProbeScript(out: string): string {
  const ask = JSON.stringify(`${out}.snapshot`);
  return `import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
if (isMainThread) {
  setInterval(() => {
    writeFileSync(${JSON.stringify(out)}, JSON.stringify({ ...process.memoryUsage(), v8: getHeapStatistics() }));
    let path;
    try { path = readFileSync(${ask}, 'utf8'); } catch { return; }
    rmSync(${ask}, { force: true });
    writeHeapSnapshot(path);
  }, 500).unref();
}
`;
}

/** Asks the preloaded module for a heap snapshot of the main thread, written to `path` within 500 ms. */
export function requestHeapSnapshot(file: string, path: string): void {
  writeFileSync(`${file}.snapshot`, path);
}

/** Writes the module into `dir`; returns its path (for --import) and the file it writes. */
export function installHeapProbe(dir: string, base: string): { module: string; file: string } {
  const file = join(dir, `heap-${base}.json`);
  const module = join(dir, `heap-probe-${base}.mjs`);
  writeFileSync(module, heapProbeScript(file));
  return { module, file };
}

/** The last sample written; undefined before the first. */
export function readHeapProbe(file: string): MainThreadHeap | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MainThreadHeap;
  } catch {
    return undefined;
  }
}
