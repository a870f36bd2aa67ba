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

/** UDP: a tag per (source port, slot), and each slot's ports. */
export class UdpIds {
  /** (source port << 16 | destination port) of each slot */
  readonly ports: Uint32Array;
  /**
   * wire key + 1 of each slot (0 when none): zero-filled, so the pages of slots never used stay
   * untouched and cost no resident memory
   */
  readonly #udpKeyOf: Float64Array;
  readonly #udpSlot = new Map<number, number>();
  readonly #nextTag = new Map<number, number>();

  constructor(capacity: number) {
    this.ports = new Uint32Array(capacity);
    this.#udpKeyOf = new Float64Array(capacity);
  }

  static udpKey(srcPort: number, wireTag: number): number {
    return srcPort * 65536 + wireTag;
  }

  /** Picks a free tag (1..65535) for `srcPort` and binds it to `slot`; -1 if every tag is in use. */
  bindUdp(slot: number, srcPort: number, family: 4 | 6): number {
    let tag = this.#nextTag.get(srcPort) ?? 1;
    for (let tries = 0; tries < 65535; tries++) {
      const wire = family === 4 ? tag : udpTagChecksum(tag);
      const key = UdpIds.udpKey(srcPort, wire);
      const next = tag === 65535 ? 1 : tag + 1;
      if (!this.#udpSlot.has(key)) {
        this.#udpSlot.set(key, slot);
        this.#udpKeyOf[slot] = key + 1;
        this.#nextTag.set(srcPort, next);
        return tag;
      }
      tag = next;
    }
    return -1;
  }

  slotFromUdp(srcPort: number, wireTag: number): number {
    return this.#udpSlot.get(UdpIds.udpKey(srcPort, wireTag)) ?? -1;
  }

  /** forgets the UDP binding of a slot (when the slot is freed) */
  release(slot: number): void {
    const key1 = this.#udpKeyOf[slot]!;
    if (key1 > 0) {
      this.#udpSlot.delete(key1 - 1);
      this.#udpKeyOf[slot] = 0;
    }
  }
}
