/**
 * The engine's captures: one per egress interface, all with the same BPF filter, with their
 * drop bookkeeping. A filter change (new source-port ranges) replaces every capture, the new
 * one opened before the old one is read a last time and closed, so no answer falls between.
 */
import type { Logger } from '../lib/logger.js';
import type { Capture, CaptureFactory } from './types.js';

export interface CaptureCounters {
  readonly iface: string;
  readonly received: number;
  readonly dropped: number;
}

/** Receives every captured frame, with the link type of its capture. */
export type LinkFrameSink = (linkType: number, sec: number, usec: number, frame: Uint8Array, caplen: number) => void;

interface CaptureState {
  cap: Capture;
  dropped: number;
  received: number;
  /** counts of the captures this one replaced (filter changes) */
  baseDropped: number;
  baseReceived: number;
  /** monotonic time of the last check that found new drops */
  lastDropMono: number;
}

export class CaptureSet {
  readonly #factory: CaptureFactory;
  readonly #onFrame: LinkFrameSink;
  readonly #log: Logger;
  readonly #all: CaptureState[] = [];
  readonly #byIface = new Map<string, number>();
  #filter: string;

  constructor(factory: CaptureFactory, filter: string, onFrame: LinkFrameSink, log: Logger) {
    this.#factory = factory;
    this.#filter = filter;
    this.#onFrame = onFrame;
    this.#log = log;
  }

  #open(iface: string): Capture {
    const cap = this.#factory.open(iface, this.#filter, (sec, usec, frame, caplen) => this.#onFrame(cap.linkType, sec, usec, frame, caplen));
    return cap;
  }

  /** Index of the capture on `iface`, opening it on first use. */
  indexFor(iface: string): number {
    const known = this.#byIface.get(iface);
    if (known !== undefined) return known;
    const idx = this.#all.length;
    const cap = this.#open(iface);
    this.#all.push({ cap, dropped: 0, received: 0, baseDropped: 0, baseReceived: 0, lastDropMono: -Infinity });
    this.#byIface.set(iface, idx);
    this.#log.info('capture opened', { iface, link_type: cap.linkType });
    return idx;
  }

  /** Replaces every capture by one with `filter` (nothing when it is unchanged). */
  setFilter(filter: string): void {
    if (filter === this.#filter) return;
    this.#filter = filter;
    for (const c of this.#all) {
      const old = c.cap;
      c.cap = this.#open(old.iface);
      old.poll();
      const s = old.stats();
      c.baseReceived += s.received;
      c.baseDropped += s.dropped + s.ifDropped;
      old.close();
    }
    this.#log.info('capture filters changed', { captures: this.#all.length });
  }

  /** Reads what every capture holds (frames go to the sink). */
  pollAll(): void {
    for (const c of this.#all) c.cap.poll();
  }

  /** Updates the counters; a capture that dropped frames since the last check is marked at `now`. */
  checkDrops(now: number): void {
    for (const c of this.#all) {
      const s = c.cap.stats();
      const dropped = c.baseDropped + s.dropped + s.ifDropped;
      if (dropped > c.dropped) c.lastDropMono = now;
      c.dropped = dropped;
      c.received = c.baseReceived + s.received;
    }
  }

  /** Monotonic time capture `index` was last seen dropping frames (-Infinity: never). */
  lastDropMono(index: number): number {
    return this.#all[index]?.lastDropMono ?? -Infinity;
  }

  counters(): CaptureCounters[] {
    return this.#all.map((c) => ({ iface: c.cap.iface, received: c.received, dropped: c.dropped }));
  }

  closeAll(): void {
    for (const c of this.#all) c.cap.close();
  }
}
