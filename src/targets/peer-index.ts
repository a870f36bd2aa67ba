/** Which targets probe an address (by addrHash), to count answers that matched none of our probes. */
import { addrHash, parseIp } from '../lib/address.js';

function hashOf(address: string): number {
  const b = parseIp(address)!;
  return addrHash(b, 0, b.length);
}

/**
 * Almost every address is probed by one target: it is kept as the single owner of its hash; a
 * Set is made only for a hash that several targets share (and dropped when one is left).
 */
export class PeerIndex<T> {
  readonly #one = new Map<number, T>();
  readonly #many = new Map<number, Set<T>>();

  /** `t` now probes `after` instead of `before` (canonical addresses) */
  move(t: T, before: readonly string[] | null, after: readonly string[]): void {
    for (const a of before ?? []) this.#delete(hashOf(a), t);
    for (const a of after) this.#add(hashOf(a), t);
  }

  #add(h: number, t: T): void {
    const set = this.#many.get(h);
    if (set) {
      set.add(t);
      return;
    }
    const one = this.#one.get(h);
    if (one === undefined) this.#one.set(h, t);
    else if (one !== t) {
      this.#one.delete(h);
      this.#many.set(h, new Set([one, t]));
    }
  }

  #delete(h: number, t: T): void {
    if (this.#one.get(h) === t) {
      this.#one.delete(h);
      return;
    }
    const set = this.#many.get(h);
    if (!set?.delete(t) || set.size > 1) return;
    this.#many.delete(h);
    for (const last of set) this.#one.set(h, last);
  }

  /** the targets probing the address of hash `peerHash` */
  targets(peerHash: number): Iterable<T> {
    const one = this.#one.get(peerHash);
    if (one !== undefined) return [one];
    return this.#many.get(peerHash) ?? [];
  }
}
