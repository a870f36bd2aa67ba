/**
 * The engine's captures: one per egress interface, all with the same BPF filter and ring size,
 * with their drop bookkeeping. A filter change (new source-port ranges) or a new ring size
 * replaces every capture, the new one opened before the old one is read a last time and closed,
 * so no answer falls between.
 *
 * The ring follows the planned probe rate (ringBytesFor): the kernel cycles through every block
 * of it, so all of it is resident, and 8 MiB per interface is most of what 10 000 targets at one
 * probe per 10 s cost beyond the process itself.
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

export const MIN_RING_BYTES = 2 * 1024 * 1024;
export const MAX_RING_BYTES = 8 * 1024 * 1024;
/**
 * Ring bytes per planned probe/s: a request and its answer are both captured, each frame takes
 * at most ~384 bytes of ring at our 256-byte snap length (TPACKET_V3 header, link address,
 * alignment), and the ring should hold 2 s of them while the process is off the CPU.
 */
const RING_BYTES_PER_PPS = 2 * 384 * 2;

/**
 * The ring size for `probesPerSecond`: a power of two from MIN_RING_BYTES to MAX_RING_BYTES
 * (the size used at every rate before; above ~2 700 probes/s it is the size again).
 */
export function ringBytesFor(probesPerSecond: number): number {
  let bytes = MIN_RING_BYTES;
  while (bytes < MAX_RING_BYTES && bytes < probesPerSecond * RING_BYTES_PER_PPS) bytes *= 2;
  return bytes;
}

export interface CaptureCounters {
  readonly iface: string;
  readonly received: number;
  readonly dropped: number;
  readonly ringBytes: number;
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
  #ringBytes: number;

  constructor(factory: CaptureFactory, filter: string, ringBytes: number, onFrame: LinkFrameSink, log: Logger) {
    this.#factory = factory;
    this.#filter = filter;
    this.#ringBytes = ringBytes;
    this.#onFrame = onFrame;
    this.#log = log;
  }

  #open(iface: string, st: { read: number }): Capture {
    const cap = this.#factory.open(iface, this.#filter, this.#ringBytes, (sec, usec, frame, caplen) => {
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
    this.#replaceAll();
    this.#log.info('capture filters changed', { captures: this.#all.length });
  }

  /** Replaces every capture by one with a ring of `ringBytes` (nothing when it is unchanged). */
  setRingBytes(ringBytes: number): void {
    if (ringBytes === this.#ringBytes) return;
    const from = this.#ringBytes;
    this.#ringBytes = ringBytes;
    this.#replaceAll();
    if (this.#all.length > 0) this.#log.info('capture rings resized', { captures: this.#all.length, from_bytes: from, to_bytes: ringBytes });
  }

  #replaceAll(): void {
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
    return this.#all.map((c) => ({ iface: c.cap.iface, received: c.received, dropped: c.dropped, ringBytes: this.#ringBytes }));
  }

  closeAll(): void {
    for (const c of this.#all) c.cap.close();
  }
}
