/**
 * Names (reverse DNS) and AS numbers of the hops of a trace, looked up asynchronously while
 * the trace runs: bounded in time per lookup, in lookups at once, and in the wait at the end.
 * The lookups themselves are injected (HopAnnotator); cymruAsn() builds the AS lookup on
 * Team Cymru's DNS zone from an injected TXT resolver.
 */
import { parseIp } from '../lib/address.js';
import type { Clock } from '../lib/clock.js';
import type { OperationEvent } from './types.js';

export interface HopAnnotator {
  /** the name of an address (PTR), or null */
  readonly name?: (address: string) => Promise<string | null>;
  /** the AS number announcing an address, or null */
  readonly asn?: (address: string) => Promise<number | null>;
}

/** one lookup gives up after this long; the end of an operation waits at most this long too */
export const ANNOTATE_TIMEOUT_MS = 2000;
/** lookups of one operation at once */
const CONCURRENCY = 4;
/** distinct addresses one operation annotates at most */
const MAX_ADDRESSES = 1024;

/** The annotations of one operation. */
export class HopAnnotations {
  readonly names = new Map<string, string>();
  readonly asns = new Map<string, number>();
  readonly #seen = new Set<string>();
  readonly #queue: string[] = [];
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  constructor(
    private readonly annotator: HopAnnotator | undefined,
    private readonly want: { readonly names: boolean; readonly asns: boolean },
    private readonly emit: (e: OperationEvent) => void,
    private readonly clock: Clock,
  ) {}

  get #active(): boolean {
    return this.annotator !== undefined && ((this.want.names && this.annotator.name !== undefined) || (this.want.asns && this.annotator.asn !== undefined));
  }

  /** a responder: looked up once, when asked for */
  see(address: string): void {
    if (this.#closed || !this.#active || address === '' || this.#seen.has(address) || this.#seen.size >= MAX_ADDRESSES) return;
    this.#seen.add(address);
    this.#queue.push(address);
    this.#pump();
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < CONCURRENCY && this.#queue.length > 0) {
      const address = this.#queue.shift()!;
      const p = this.#lookup(address).finally(() => {
        this.#running.delete(p);
        this.#pump();
      });
      this.#running.add(p);
    }
  }

  async #lookup(address: string): Promise<void> {
    const a = this.annotator!;
    const [name, asn] = await Promise.all([
      this.want.names && a.name ? this.#bounded(a.name(address)) : Promise.resolve(null),
      this.want.asns && a.asn ? this.#bounded(a.asn(address)) : Promise.resolve(null),
    ]);
    if (this.#closed || (name === null && asn === null)) return;
    if (name !== null) this.names.set(address, name);
    if (asn !== null) this.asns.set(address, asn);
    this.emit({ type: 'annotate', address, ...(name === null ? {} : { name }), ...(asn === null ? {} : { asn }) });
  }

  /** the lookup's answer, or null when it fails or takes longer than ANNOTATE_TIMEOUT_MS */
  #bounded<T>(p: Promise<T | null>): Promise<T | null> {
    return new Promise((resolve) => {
      const t = this.clock.setTimer(ANNOTATE_TIMEOUT_MS, () => resolve(null));
      p.then((v) => resolve(v), () => resolve(null)).finally(() => t.cancel());
    });
  }

  /** waits for the lookups under way (at most ANNOTATE_TIMEOUT_MS), then reports nothing more */
  async settle(): Promise<void> {
    if (this.#running.size > 0 || this.#queue.length > 0) {
      await new Promise<void>((resolve) => {
        const t = this.clock.setTimer(ANNOTATE_TIMEOUT_MS, resolve);
        const drained = async (): Promise<void> => {
          while (this.#running.size > 0) await Promise.all([...this.#running]);
        };
        void drained().then(() => {
          t.cancel();
          resolve();
        });
      });
    }
    this.#closed = true;
  }
}

/** Team Cymru's DNS name of an address's origin AS: reversed octets (IPv4) or nibbles (IPv6). */
export function cymruQueryName(address: string): string | null {
  const b = parseIp(address);
  if (b === null) return null;
  if (b.length === 4) return `${b[3]}.${b[2]}.${b[1]}.${b[0]}.origin.asn.cymru.com`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((b[i]! & 0xf).toString(16), (b[i]! >> 4).toString(16));
  return `${nibbles.join('.')}.origin6.asn.cymru.com`;
}

/** The first AS number of a Team Cymru origin TXT answer ("15169 | 8.8.8.0/24 | US | arin | 2000-03-30"). */
export function parseCymruTxt(records: readonly (readonly string[])[]): number | null {
  for (const chunks of records) {
    const first = chunks.join('').split('|')[0]?.trim().split(/\s+/)[0] ?? '';
    if (/^\d{1,10}$/.test(first)) {
      const n = Number(first);
      if (n <= 0xffffffff) return n;
    }
  }
  return null;
}

/** The AS lookup on Team Cymru's zone through `txt` (bounded by HopAnnotations). */
export function cymruAsn(txt: (name: string) => Promise<string[][]>): (address: string) => Promise<number | null> {
  return async (address) => {
    const name = cymruQueryName(address);
    return name === null ? null : parseCymruTxt(await txt(name));
  };
}
