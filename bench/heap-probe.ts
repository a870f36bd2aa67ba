// A module preloaded into wireprobe (NODE_OPTIONS --import) that writes the main thread's memory
// to a file every 500 ms: process.memoryUsage(), v8.getHeapStatistics() and the heap's spaces, no
// heap snapshot needed. --import also runs in every worker thread: each worker writes its own
// heap to `<file>.thread-<id>` (while it is idle: a task holds its event loop), so the file
// never holds a worker's heap. On request it also writes a heap snapshot of the main thread: the
// bench writes the snapshot's path into `<file>.snapshot` (not a signal: --heapsnapshot-signal
// killed wireprobe after a snapshot, the worker threads' exit resetting the handler).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** per heap space (v8.getHeapSpaceStatistics(), name without `_space`): [committed, used] bytes */
export type HeapSpaces = Record<string, [number, number]>;

export interface MainThreadHeap extends NodeJS.MemoryUsage {
  /** performance.now() in wireprobe when this was written */
  now: number;
  /** the last MAJOR_GCS_KEPT full collections: [start (performance.now()), duration] ms */
  majorGcs: [number, number][];
  /** v8.getHeapStatistics() of the main isolate */
  v8: { total_heap_size: number; used_heap_size: number; malloced_memory: number; number_of_native_contexts: number; number_of_detached_contexts: number };
  spaces: HeapSpaces;
}

/** A worker thread's heap, as it last wrote it. */
export interface WorkerThreadHeap {
  /** when it wrote it (Unix ms) */
  at: number;
  v8: MainThreadHeap['v8'];
  spaces: HeapSpaces;
}

/** full collections of the main thread remembered by the probe (a reload burst at 10 000 targets runs ~2 a second) */
const MAJOR_GCS_KEPT = 2000;

/** The full collections of the main thread between two samples: count, total and largest ms, and each as "ms@s" (s: seconds into the window). */
export function majorGcsBetween(from: MainThreadHeap | undefined, to: MainThreadHeap | undefined): string {
  if (from === undefined || to === undefined) return 'major GCs: not known';
  const within = to.majorGcs.filter(([at]) => at >= from.now && at <= to.now);
  const total = within.reduce((a, [, ms]) => a + ms, 0);
  const max = within.reduce((a, [, ms]) => Math.max(a, ms), 0);
  return `${within.length} major GCs, ${total.toFixed(0)} ms in all, largest ${max.toFixed(1)} ms: ${within.map(([at, ms]) => `${ms}@${((at - from.now) / 1000).toFixed(1)}`).join(' ')}`;
}

/** The text of the preloaded module, writing to `out`. */
export function heapProbeScript(out: string): string {
  const ask = JSON.stringify(`${out}.snapshot`);
  return `import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';
const spaces = () => Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), [s.space_size, s.space_used_size]]));
if (!isMainThread) {
  setInterval(() => writeFileSync(${JSON.stringify(out)} + '.thread-' + threadId, JSON.stringify({ at: Date.now(), v8: getHeapStatistics(), spaces: spaces() })), 500).unref();
} else {
  const majorGcs = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs.push([Math.round(e.startTime), Math.round(e.duration * 10) / 10]);
    if (majorGcs.length > ${MAJOR_GCS_KEPT}) majorGcs.splice(0, majorGcs.length - ${MAJOR_GCS_KEPT});
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    writeFileSync(${JSON.stringify(out)}, JSON.stringify({ ...process.memoryUsage(), now: performance.now(), majorGcs, v8: getHeapStatistics(), spaces: spaces() }));
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

/** The worker threads that wrote their heap within the last `maxAgeMs` (the live ones, idle). */
export function readWorkerHeaps(file: string, maxAgeMs: number, now = Date.now()): WorkerThreadHeap[] {
  const prefix = `${basename(file)}.thread-`;
  const heaps: WorkerThreadHeap[] = [];
  for (const name of readdirSync(dirname(file))) {
    if (!name.startsWith(prefix)) continue;
    try {
      const h = JSON.parse(readFileSync(join(dirname(file), name), 'utf8')) as WorkerThreadHeap;
      if (now - h.at <= maxAgeMs) heaps.push(h);
    } catch {
      // being written: skipped
    }
  }
  return heaps;
}
