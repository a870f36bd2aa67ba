/** Which targets probe an address (by addrHash), to count answers that matched none of our probes. */
import { addrHash, parseIp } from '../lib/address.js';

function hashOf(address: string): number {
  const b = parseIp(address)!;
  return addrHash(b, 0, b.length);
}

export class PeerIndex<T> {
  readonly #byPeer = new Map<number, Set<T>>();

  /** `t` now probes `after` instead of `before` (canonical addresses) */
  move(t: T, before: readonly string[] | null, after: readonly string[]): void {
    for (const a of before ?? []) {
      const h = hashOf(a);
      const set = this.#byPeer.get(h);
      set?.delete(t);
      if (set?.size === 0) this.#byPeer.delete(h);
    }
    for (const a of after) {
      const h = hashOf(a);
      let set = this.#byPeer.get(h);
      if (!set) this.#byPeer.set(h, (set = new Set()));
      set.add(t);
    }
  }

  /** the targets probing the address of hash `peerHash` */
  targets(peerHash: number): Iterable<T> {
    return this.#byPeer.get(peerHash) ?? [];
  }
}
