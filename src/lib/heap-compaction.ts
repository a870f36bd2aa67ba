/**
 * Compacts the main thread's heap after reloads. Each reload (applied or refused) leaves some tens
 * of kB that outlive the young generation; V8 lets the old generation fill with them up to its next
 * limit (at least 8 MB past the live size, whatever --heap-growing-percent says) and, after a
 * regular full collection, keeps the pages it filled: under a burst of reloads the heap, and RSS,
 * settle 6-7 MB higher than before (bench/README.md, "reload-churn.ts"). A compacting collection
 * that gives free pages back, run once the heap has grown by a set amount since the last one, keeps
 * it near its live size. Such a collection stops the thread (tens of ms at ~25 MB): it runs after
 * the reload has answered, and compactions take at most a set share of the time (each counted from
 * its request to its end, so the share of the thread's time is less).
 *
 * Scrapes do the same: with 1 MB semi-spaces a scrape of 10 000 targets makes ~87 MB of young
 * garbage, ~90 scavenges in a row that promote what the probing has alive then (the render's own
 * strings hardly promote), and under probing the old generation keeps the pages
 * (scraped every 15 s, RSS settled ~8 MB over the unscraped figure). The heap is sampled as each
 * scrape starts (before its garbage), the least sample since the last compaction is the base,
 * and the heap is checked a short while after the scrape has been answered, against a threshold
 * of its own. After a compaction,
 * the free chunks glibc keeps in the middle of its arenas (zlib's output, the scrape's buffers)
 * are given back too, when the malloc-trim addon is there (lib/malloc-trim.ts).
 */
import { Session } from 'node:inspector';
import { getHeapStatistics } from 'node:v8';
import type { Clock, TimerHandle } from './clock.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { MallocTrim } from './malloc-trim.js';

export interface HeapControl {
  /** the heap's committed bytes (all spaces) */
  committedBytes(): number;
  /** a full collection that compacts and gives free pages back; resolves once it has run */
  compact(): Promise<void>;
}

export interface CompactionPolicy {
  /** compact once the heap has grown by this many bytes since the last compaction... */
  readonly minGrowthBytes: number;
  /** ...and by this share of its size then */
  readonly minGrowthRatio: number;
  /**
   * after a scrape: compact once the heap has grown by this many bytes over the least size seen
   * as a scrape started (or after the last compaction); no share of the size
   */
  readonly scrapeMinGrowthBytes: number;
  /** at most this share of the thread's time goes to compactions */
  readonly maxTimeShare: number;
}

/**
 * This thread's V8 heap. The compaction is V8's low-memory collection (what the inspector's
 * HeapProfiler.collectGarbage asks for): full collections that compact and give free pages back,
 * which a regular full collection (global.gc()) does not. V8 runs it as a task of its own, with no
 * JavaScript on the stack; no inspector session stays open between compactions.
 */
export const threadHeap: HeapControl = {
  committedBytes: () => getHeapStatistics().total_heap_size,
  // async: a node built without the inspector throws at connect(), which must reject
  compact: async () => {
    const session = new Session();
    session.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        session.post('HeapProfiler.collectGarbage', (err) => (err === null ? resolve() : reject(err)));
      });
    } finally {
      // not inside the answer's callback: disconnecting there hangs the thread
      session.disconnect();
    }
  },
};

/**
 * 2 MB is ~60 reloads of a 50-target file; 5 %: a 100 ms compaction at most every 2 s. Scrapes:
 * 1 MB, so that at 10 000 targets scraped every 15 s each scrape's pages go back (with the reloads'
 * 2 MB and 10 % it compacted after every other scrape, and RSS sat 2-4 MB higher: bench/README.md,
 * "Memory while scraped: compaction after scrapes").
 */
export const HEAP_COMPACTION: CompactionPolicy = {
  minGrowthBytes: 2 * 1024 * 1024, minGrowthRatio: 0.1, scrapeMinGrowthBytes: 1024 * 1024, maxTimeShare: 0.05,
};

/**
 * ms from a scrape's answer to the check: the answer's last bytes are written, and a scraper that
 * sends several requests at once (plain and gzip) has sent them
 */
export const SCRAPE_SETTLE_MS = 1000;

const mb = (bytes: number): number => Math.round(bytes / 1024 / 102.4) / 10;

export class HeapCompactor {
  readonly #heap: HeapControl;
  readonly #policy: CompactionPolicy;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #malloc: MallocTrim | null;
  /** committed bytes after the last compaction, or the least seen since */
  #base: number | null = null;
  /** monotonic ms before which the time budget allows no compaction */
  #notBefore = -Infinity;
  #pending: TimerHandle | null = null;

  constructor(heap: HeapControl, policy: CompactionPolicy, clock: Clock, log: Logger, malloc: MallocTrim | null = null) {
    this.#heap = heap;
    this.#policy = policy;
    this.#clock = clock;
    this.#log = log;
    this.#malloc = malloc;
  }

  /** After a reload: checks the heap on a timer of its own, once the caller's work is done. */
  afterReload(): void {
    this.#schedule(0, 'reloads');
  }

  /** As a scrape starts: the heap before the scrape's garbage, a candidate base. */
  scrapeStarted(): void {
    this.#see(this.#heap.committedBytes());
  }

  /** Once a scrape has been answered: checks the heap SCRAPE_SETTLE_MS later. */
  scrapeAnswered(): void {
    this.#schedule(SCRAPE_SETTLE_MS, 'scrapes');
  }

  /** cancels a check not started yet (one under way finishes) */
  stop(): void {
    this.#pending?.cancel();
  }

  #schedule(delayMs: number, after: 'reloads' | 'scrapes'): void {
    if (this.#pending !== null) return;
    this.#pending = this.#clock.setTimer(delayMs, () => {
      void this.#check(after).finally(() => (this.#pending = null));
    });
  }

  /** true when `bytes` became the base */
  #see(bytes: number): boolean {
    if (this.#base !== null && bytes >= this.#base) return false;
    this.#base = bytes;
    return true;
  }

  async #check(after: 'reloads' | 'scrapes'): Promise<void> {
    const before = this.#heap.committedBytes();
    if (this.#see(before)) return;
    const base = this.#base ?? before;
    const { minGrowthBytes, minGrowthRatio, scrapeMinGrowthBytes, maxTimeShare } = this.#policy;
    const needed = after === 'scrapes' ? scrapeMinGrowthBytes : Math.max(minGrowthBytes, base * minGrowthRatio);
    const start = this.#clock.monoMs();
    if (before - base < needed || start < this.#notBefore) return;
    let failure: unknown = null;
    await this.#heap.compact().catch((e: unknown) => (failure = e));
    const compacted = this.#clock.monoMs();
    const trimmed = failure === null && this.#malloc !== null ? this.#malloc.trim() : null;
    const end = this.#clock.monoMs();
    this.#base = this.#heap.committedBytes();
    this.#notBefore = end + (end - start) * (1 / maxTimeShare - 1);
    if (failure !== null) this.#log.warn('heap compaction failed', { err: errorMessage(failure) });
    else {
      this.#log.debug(`heap compacted after ${after}`, {
        beforeMb: mb(before), afterMb: mb(this.#base), ms: Math.round(compacted - start),
        ...(trimmed === null ? {} : { mallocTrimmed: trimmed, trimMs: Math.round((end - compacted) * 10) / 10 }),
      });
    }
  }
}
