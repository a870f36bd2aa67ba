/**
 * The table of probes in flight. A probe owns a slot from send until its deadline has passed;
 * the slot number is the probe's identity on the wire (for ICMP: id = base + slot >> 16,
 * seq = slot & 0xffff). Plain typed arrays: no allocation per probe.
 */
export const SlotState = { FREE: 0, PENDING: 1, DONE: 2 } as const;

/**
 * The slots handed out before the table first grows. The window doubles whenever the cursor comes
 * round to a slot still in flight or in quarantine (Engine: twice the timeout and 1 s after its
 * send), so it settles at the slots a probe rate keeps busy (at 1 000 probes/s with 1 s
 * timeouts, ~3 000: 8 192, gone round in ~8 s). Each slot the cursor has visited costs ~45 bytes of
 * resident typed arrays (the table's columns, the engine's and the matchers'): 2.9 MB for 65 536
 * slots, 0.4 MB for 8 192.
 */
export const INITIAL_SLOT_WINDOW = 8192;

/**
 * A per-slot array of `capacity` slots, made as long as the slots first handed out (see
 * INITIAL_SLOT_WINDOW): grown by writes as the cursor advances, it would be copied at every growth
 * step, each old copy left to the old generation as garbage. Beyond the first window it grows by
 * writes, at the few doublings of the window.
 */
export function perSlotArray<T>(capacity: number): (T | undefined)[] {
  return new Array<T | undefined>(Math.min(INITIAL_SLOT_WINDOW, capacity));
}

export class SlotTable {
  readonly capacity: number;
  /** slots in use are < window; it doubles when the cursor runs into a busy slot */
  window: number;
  #cursor = 0;
  readonly state: Uint8Array;
  /** kernel timestamps, µs since the epoch; 0 = not seen */
  readonly txUs: Float64Array;
  readonly sentMono: Float64Array;
  readonly timeoutUs: Float64Array;
  readonly peer: Uint32Array;
  readonly capture: Uint16Array;
  readonly index: Int32Array;
  readonly owner: unknown[];
  /**
   * Monotonic ms before which a freed slot is not handed out again: a reply arriving after its
   * probe was settled as lost must not be credited to the next probe of the same slot.
   */
  readonly reusableAt: Float64Array;

  constructor(capacity: number, initialWindow = INITIAL_SLOT_WINDOW) {
    this.capacity = capacity;
    this.window = Math.min(initialWindow, capacity);
    this.state = new Uint8Array(capacity);
    this.txUs = new Float64Array(capacity);
    this.sentMono = new Float64Array(capacity);
    this.timeoutUs = new Float64Array(capacity);
    this.peer = new Uint32Array(capacity);
    this.capture = new Uint16Array(capacity);
    this.index = new Int32Array(capacity);
    this.reusableAt = new Float64Array(capacity);
    this.owner = perSlotArray(this.window);
  }

  #usable(s: number, nowMono: number): boolean {
    return this.state[s] === SlotState.FREE && this.reusableAt[s]! <= nowMono;
  }

  #scan(from: number, nowMono: number): number | null {
    let s = from;
    do {
      if (this.#usable(s, nowMono)) return s;
      s = (s + 1) % this.window;
    } while (s !== from);
    return null;
  }

  /** Returns a free slot, or -1 when every slot is in flight or in quarantine. */
  alloc(nowMono: number): number {
    let s = this.#cursor;
    if (!this.#usable(s, nowMono)) {
      if (this.window < this.capacity) {
        s = this.window;
        this.window = Math.min(this.window * 2, this.capacity);
      } else {
        // at full size, prefer a slot out of quarantine, else any free one
        s = this.#scan(s, nowMono) ?? this.#scan(s, Infinity) ?? -1;
        if (s < 0) return -1;
      }
    }
    this.#cursor = (s + 1) % this.window;
    this.state[s] = SlotState.PENDING;
    this.txUs[s] = 0;
    return s;
  }

  /** frees a slot; it may be handed out again from `reusableAtMono` on */
  free(s: number, reusableAtMono = 0): void {
    this.state[s] = SlotState.FREE;
    this.owner[s] = undefined;
    this.reusableAt[s] = reusableAtMono;
  }
}

/** A FIFO of slots sharing one timeout: their deadlines are in send order. */
export class DeadlineQueue {
  readonly timeoutMs: number;
  #buf = new Int32Array(1024);
  #head = 0;
  #len = 0;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  get length(): number {
    return this.#len;
  }

  push(slot: number): void {
    if (this.#len === this.#buf.length) {
      const next = new Int32Array(this.#buf.length * 2);
      for (let i = 0; i < this.#len; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length]!;
      this.#buf = next;
      this.#head = 0;
    }
    this.#buf[(this.#head + this.#len) % this.#buf.length] = slot;
    this.#len++;
  }

  peek(): number {
    return this.#len === 0 ? -1 : this.#buf[this.#head]!;
  }

  shift(): number {
    const s = this.#buf[this.#head]!;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#len--;
    return s;
  }
}
