/**
 * Probe identity for TCP and UDP probes, derived from the engine's slot number:
 * - TCP: the SYN's sequence number is `seqBase + slot·4096`; the SYN-ACK acknowledges seq + 1,
 *   a closed port's RST acknowledges seq + 1 + data length, and ICMP errors quote seq itself.
 *   So a SYN may carry at most 4094 bytes of data.
 * - UDP: a 16-bit tag per source port (IPv4 identification, and the UDP checksum through the
 *   payload), quoted back by ICMP port-unreachable; a map from (port, wire tag) to the slot.
 * Pure bookkeeping: no I/O.
 */
import { udpTagChecksum } from '../packet/udp.js';
import { fibHome } from '../lib/fib-hash.js';

export const TCP_SEQ_SHIFT = 12;
export const TCP_MAX_DATA = (1 << TCP_SEQ_SHIFT) - 2;

/** TCP: sequence numbers from slots and back, and each slot's ports and data length. */
export class TcpIds {
  readonly seqBase: number;
  /** (source port << 16 | destination port) of each slot */
  readonly ports: Uint32Array;
  readonly dataLen: Uint16Array;

  constructor(capacity: number, seqBase: number) {
    this.seqBase = seqBase >>> 0;
    this.ports = new Uint32Array(capacity);
    this.dataLen = new Uint16Array(capacity);
  }

  tcpSeq(slot: number): number {
    return (this.seqBase + slot * (1 << TCP_SEQ_SHIFT)) >>> 0;
  }

  /** the slot whose SYN carried `seq`, or -1 */
  slotFromSeq(seq: number, capacity: number): number {
    const d = (seq - this.seqBase) >>> 0;
    if ((d & ((1 << TCP_SEQ_SHIFT) - 1)) !== 0) return -1;
    const s = d >>> TCP_SEQ_SHIFT;
    return s < capacity ? s : -1;
  }

  /** the slot a SYN-ACK or RST with acknowledgement `ack` answers, or -1 */
  slotFromAck(ack: number, capacity: number): number {
    const d = (ack - 1 - this.seqBase) >>> 0;
    const s = d >>> TCP_SEQ_SHIFT;
    if (s >= capacity) return -1;
    const rem = d & ((1 << TCP_SEQ_SHIFT) - 1);
    return rem === 0 || rem === this.dataLen[s] ? s : -1;
  }
}

/**
 * A hash table from a 32-bit key to a slot, in two typed arrays (open addressing, linear
 * probing, deletion by backward shift): binding and releasing allocate nothing on the JS heap
 * and leave no garbage (a Map keyed by numbers past 2^31 boxes every key, and rebuilds its
 * table as deleted entries pile up). It doubles when half full and halves below one eighth,
 * never under its initial size.
 */
export class SlotByKey {
  static readonly MIN_SIZE = 1024;
  #keys = new Uint32Array(SlotByKey.MIN_SIZE);
  /** slot + 1 of each entry; 0 = empty */
  #vals = new Uint32Array(SlotByKey.MIN_SIZE);
  #mask = SlotByKey.MIN_SIZE - 1;
  /** 32 − log2(length): the home of a key is the top bits of its Fibonacci hash */
  #shift = 32 - Math.log2(SlotByKey.MIN_SIZE);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** the table's length (entries it has room for, counting the free half) */
  get capacity(): number {
    return this.#mask + 1;
  }

  #home(key: number): number {
    return fibHome(key, this.#shift);
  }

  /** the entry index of `key`, or -1 */
  #find(key: number): number {
    for (let i = this.#home(key); ; i = (i + 1) & this.#mask) {
      if (this.#vals[i] === 0) return -1;
      if (this.#keys[i] === key) return i;
    }
  }

  /** the slot bound to `key`, or -1 */
  get(key: number): number {
    const i = this.#find(key);
    return i < 0 ? -1 : this.#vals[i]! - 1;
  }

  has(key: number): boolean {
    return this.#find(key) >= 0;
  }

  /** Binds `key` (not bound yet) to `slot`. */
  add(key: number, slot: number): void {
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#resize((this.#mask + 1) * 2);
    this.#put(key, slot + 1);
    this.#size++;
  }

  #put(key: number, val: number): void {
    let i = this.#home(key);
    while (this.#vals[i] !== 0) i = (i + 1) & this.#mask;
    this.#keys[i] = key;
    this.#vals[i] = val;
  }

  /** Unbinds `key` if it is bound to `slot`. */
  delete(key: number, slot: number): void {
    let i = this.#find(key);
    if (i < 0 || this.#vals[i] !== slot + 1) return;
    // backward shift: an entry further on moves into the hole unless its home lies between them
    for (let j = (i + 1) & this.#mask; this.#vals[j] !== 0; j = (j + 1) & this.#mask) {
      if (((j - this.#home(this.#keys[j]!)) & this.#mask) >= ((j - i) & this.#mask)) {
        this.#keys[i] = this.#keys[j]!;
        this.#vals[i] = this.#vals[j]!;
        i = j;
      }
    }
    this.#vals[i] = 0;
    this.#size--;
    if (this.#size * 8 < this.#mask + 1 && this.#mask + 1 > SlotByKey.MIN_SIZE) this.#resize((this.#mask + 1) / 2);
  }

  #resize(length: number): void {
    const keys = this.#keys;
    const vals = this.#vals;
    this.#keys = new Uint32Array(length);
    this.#vals = new Uint32Array(length);
    this.#mask = length - 1;
    this.#shift = 32 - Math.log2(length);
    for (let i = 0; i < vals.length; i++) if (vals[i] !== 0) this.#put(keys[i]!, vals[i]!);
  }
}

/** UDP: a tag per (source port, slot), and each slot's ports. */
export class UdpIds {
  /** (source port << 16 | destination port) of each slot */
  readonly ports: Uint32Array;
  /**
   * (source port << 16 | wire tag) each slot was last bound with: zero-filled, so the pages of
   * slots never used stay untouched and cost no resident memory
   */
  readonly #keyOf: Uint32Array;
  readonly #slotOf = new SlotByKey();
  /** per source port: the next tag to try (0 = 1, none tried yet) */
  readonly #nextTag = new Uint16Array(65536);

  constructor(capacity: number) {
    this.ports = new Uint32Array(capacity);
    this.#keyOf = new Uint32Array(capacity);
  }

  static udpKey(srcPort: number, wireTag: number): number {
    return ((srcPort << 16) | wireTag) >>> 0;
  }

  /** Picks a free tag (1..65535) for `srcPort` and binds it to `slot`; -1 if every tag is in use. */
  bindUdp(slot: number, srcPort: number, family: 4 | 6): number {
    let tag = this.#nextTag[srcPort] || 1;
    for (let tries = 0; tries < 65535; tries++) {
      const wire = family === 4 ? tag : udpTagChecksum(tag);
      const key = UdpIds.udpKey(srcPort, wire);
      const next = tag === 65535 ? 1 : tag + 1;
      if (!this.#slotOf.has(key)) {
        this.#slotOf.add(key, slot);
        this.#keyOf[slot] = key;
        this.#nextTag[srcPort] = next;
        return tag;
      }
      tag = next;
    }
    return -1;
  }

  slotFromUdp(srcPort: number, wireTag: number): number {
    return this.#slotOf.get(UdpIds.udpKey(srcPort, wireTag));
  }

  /** forgets the UDP binding of a slot (when the slot is freed) */
  release(slot: number): void {
    this.#slotOf.delete(this.#keyOf[slot]!, slot);
  }
}
