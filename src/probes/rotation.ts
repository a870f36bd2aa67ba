/** The source-port and source-address round robins of a (target, group) (netprobify §1.3). */
import type { SourcePool } from './source-pool.js';

/**
 * The round robins of one (target, group): its group's source-port range and source subnet.
 * Shared by the probes of every address of the (target, group); both carry over from round to
 * round, so the whole range is used over time.
 */
export class Rotation {
  readonly portA: number;
  readonly portZ: number;
  /** the group's source subnet round robin for the target's family, or null */
  readonly sources: SourcePool | null;
  #port = 0;
  #source = 0;

  constructor(portA: number, portZ: number, sources: SourcePool | null) {
    this.portA = portA;
    this.portZ = portZ;
    this.sources = sources;
  }

  /** The next source port of the range. */
  nextPort(): number {
    return this.portA + (this.#port++ % (this.portZ - this.portA + 1));
  }

  /**
   * The next source of the subnet round robin, written into `template`; its number (for the
   * engine's RST), or 0 without a round robin.
   */
  nextSource(template: { setSource(src: Uint8Array): void }): number {
    const pool = this.sources;
    if (!pool) return 0;
    const i = this.#source++ % pool.count;
    template.setSource(pool.address(i));
    return i;
  }
}
