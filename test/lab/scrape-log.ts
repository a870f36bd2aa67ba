// Timed scrapes for comparing counters with the wire: each scrape remembers when it was requested
// (a) and answered (b), in wall-clock ms, the clock tcpdump stamps packets with.
import type { Sample } from './exposition.js';
import { sleep } from './wait-for.js';
import type { WireprobeHandle } from './wireprobe.js';

export interface TimedScrape {
  /** Date.now() before the request */
  readonly a: number;
  /** Date.now() after the response */
  readonly b: number;
  readonly samples: Sample[];
}

/**
 * Scrapes every `intervalMs` (default 150) until `done(samples)` holds; returns every scrape.
 * Throws (with the logs' tail) after `timeoutMs` or if wireprobe exits.
 */
export async function scrapeUntil(
  wp: WireprobeHandle,
  done: (samples: Sample[]) => boolean,
  opts: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<TimedScrape[]> {
  const scrapes: TimedScrape[] = [];
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (wp.process.exitCode !== undefined) {
      throw new Error(`wireprobe exited with ${wp.process.exitCode} while waiting for ${opts.what}\n${wp.logs().slice(-3000)}`);
    }
    const a = Date.now();
    const samples = await wp.scrape();
    scrapes.push({ a, b: Date.now(), samples });
    if (done(samples)) return scrapes;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}\n${wp.logs().slice(-3000)}`);
    }
    await sleep(opts.intervalMs ?? 150);
  }
}

export const msToNs = (ms: number): bigint => BigInt(Math.round(ms)) * 1_000_000n;

/**
 * The scrapes taken while the given packets were quiet: none was captured from `quietBeforeMs`
 * before the request to the end of the response. Probes older than that have settled, so such a
 * scrape must account for exactly the probes captured before it.
 */
export function quietScrapes(scrapes: readonly TimedScrape[], packetTimesNs: readonly bigint[], quietBeforeMs: number): TimedScrape[] {
  const sorted = [...packetTimesNs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return scrapes.filter((sc) => {
    const from = msToNs(sc.a - quietBeforeMs);
    const to = msToNs(sc.b);
    return !sorted.some((t) => t >= from && t <= to);
  });
}
