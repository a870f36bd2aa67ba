/**
 * Per-hop statistics of traceroute and mtr (and of ping's one destination): probes sent and
 * answered, loss, last / average / best / worst RTT and its standard deviation (population,
 * like ping's mdev), and the responders seen. Pure: no I/O, no clock.
 */
import type { HopStats } from './types.js';

export class HopAccumulator {
  readonly ttl: number;
  readonly #addresses: string[] = [];
  #sent = 0;
  #received = 0;
  /** answers with a known RTT (a request frame not captured answers without one) */
  #timed = 0;
  #last: number | null = null;
  #best = Infinity;
  #worst = -Infinity;
  /** Welford's running mean and sum of squared deviations */
  #mean = 0;
  #m2 = 0;

  constructor(ttl: number) {
    this.ttl = ttl;
  }

  get received(): number {
    return this.#received;
  }

  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /** one probe's outcome: `from` null when unanswered, `rttMs` null when unanswered or untimed */
  add(from: string | null, rttMs: number | null): void {
    this.#sent++;
    if (from === null) return;
    this.#received++;
    if (!this.#addresses.includes(from)) this.#addresses.push(from);
    if (rttMs === null) return;
    this.#timed++;
    this.#last = rttMs;
    if (rttMs < this.#best) this.#best = rttMs;
    if (rttMs > this.#worst) this.#worst = rttMs;
    const d = rttMs - this.#mean;
    this.#mean += d / this.#timed;
    this.#m2 += d * (rttMs - this.#mean);
  }

  /** a snapshot, with the names and AS numbers known so far for its responders */
  stats(names: ReadonlyMap<string, string>, asns: ReadonlyMap<string, number>): HopStats {
    const timed = this.#timed > 0;
    const n: Record<string, string> = {};
    const a: Record<string, number> = {};
    for (const addr of this.#addresses) {
      const name = names.get(addr);
      if (name !== undefined) n[addr] = name;
      const asn = asns.get(addr);
      if (asn !== undefined) a[addr] = asn;
    }
    return {
      ttl: this.ttl,
      addresses: [...this.#addresses],
      names: n,
      asns: a,
      sent: this.#sent,
      received: this.#received,
      loss: this.#sent === 0 ? 0 : (this.#sent - this.#received) / this.#sent,
      lastMs: this.#last,
      avgMs: timed ? round3(this.#mean) : null,
      bestMs: timed ? this.#best : null,
      worstMs: timed ? this.#worst : null,
      stddevMs: timed ? round3(Math.sqrt(this.#m2 / this.#timed)) : null,
    };
  }
}

/** milliseconds to the microsecond, as the kernel timestamps give them */
export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The distinct paths among traces of one destination: two traces are the same path when every
 * hop has the same responders. Keeps the first trace of each path, in order.
 */
export function distinctPaths(paths: readonly (readonly HopStats[])[]): (readonly HopStats[])[] {
  const seen = new Set<string>();
  const out: (readonly HopStats[])[] = [];
  for (const hops of paths) {
    const key = hops.map((h) => [...h.addresses].sort().join(',')).join('|');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(hops);
  }
  return out;
}
