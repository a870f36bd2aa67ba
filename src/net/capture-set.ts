/**
 * The engine's captures: one per egress interface, all with the same BPF filter, with their
 * drop bookkeeping. A filter change (new source-port ranges) replaces every capture, the new
 * one opened before the old one is read a last time and closed, so no answer falls between.
 *
 * Each capture also knows how far it is complete: the kernel counts every frame it writes into
 * the ring (pcap's ps_recv, drops included) as soon as it is written, but the frame becomes
 * readable only when its ring block is handed over (at the latest after the buffer timeout, by a
 * kernel timer that runs late when softirqs are starved). A check records how many frames the
 * kernel had delivered; once that many have been read, everything delivered before that check
 * has been seen, and no answer from before it can still appear (see completeMono()).
 */
import type { Logger } from '../lib/logger.js';
import type { Capture, CaptureFactory } from './types.js';

/** checks remembered per capture while it is behind (one per engine pump) */
const MAX_MARKS = 200;

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
  /** frames handed to the sink, all captures of this interface */
  read: number;
  /** frames written into the rings of the captures this one replaced */
  baseDelivered: number;
  /** checks whose delivered frames are not all read yet: [monotonic ms, delivered], oldest first */
  marks: number[];
  /** every frame delivered before this monotonic time has been read */
  completeMono: number;
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

  #open(iface: string, st: { read: number }): Capture {
    const cap = this.#factory.open(iface, this.#filter, (sec, usec, frame, caplen) => {
      st.read++;
      this.#onFrame(cap.linkType, sec, usec, frame, caplen);
    });
    return cap;
  }

  /** Index of the capture on `iface`, opening it on first use. */
  indexFor(iface: string): number {
    const known = this.#byIface.get(iface);
    if (known !== undefined) return known;
    const idx = this.#all.length;
    const st: Omit<CaptureState, 'cap'> = {
      dropped: 0, received: 0, baseDropped: 0, baseReceived: 0, lastDropMono: -Infinity, read: 0, baseDelivered: 0, marks: [], completeMono: -Infinity,
    };
    const cap = this.#open(iface, st);
    this.#all.push(Object.assign(st, { cap }));
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
      c.cap = this.#open(old.iface, c);
      old.poll();
      const s = old.stats();
      c.baseReceived += s.received;
      c.baseDropped += s.dropped + s.ifDropped;
      c.baseDelivered += s.received - s.dropped;
      old.close();
    }
    this.#log.info('capture filters changed', { captures: this.#all.length });
  }

  /** Reads what every capture holds (frames go to the sink). */
  pollAll(): void {
    for (const c of this.#all) c.cap.poll();
  }

  /**
   * Updates the counters; call it right after pollAll(), in the same tick, with the time of the
   * call: a capture that dropped frames since the last check is marked at `now` (the drops
   * happened before it), and a capture whose frames delivered up to a check are all read is
   * complete up to the time of that check.
   */
  checkDrops(now: number): void {
    for (const c of this.#all) {
      const s = c.cap.stats();
      const dropped = c.baseDropped + s.dropped + s.ifDropped;
      if (dropped > c.dropped) c.lastDropMono = now;
      c.dropped = dropped;
      c.received = c.baseReceived + s.received;
      // ps_recv counts the ring's drops too (checked: captured + dropped = received)
      c.marks.push(now, c.baseDelivered + s.received - s.dropped);
      let done = 0;
      while (done < c.marks.length && c.read >= c.marks[done + 1]!) {
        c.completeMono = c.marks[done]!;
        done += 2;
      }
      if (done > 0) c.marks.splice(0, done);
      // a capture that never catches up keeps its old completeness time: forget its oldest checks
      if (c.marks.length > 2 * MAX_MARKS) c.marks.splice(0, 2);
    }
  }

  /**
   * Monotonic time before which capture `index` has handed over every frame the kernel
   * delivered to it (-Infinity: not yet known; +Infinity for an unknown capture).
   */
  completeMono(index: number): number {
    return this.#all[index]?.completeMono ?? Infinity;
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
