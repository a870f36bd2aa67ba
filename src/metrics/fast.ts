/**
 * Per-target metric families on the hot path, with their own text exposition.
 *
 * prom-client's children hash and validate their labels on every update, and its registry
 * builds an object per exposed line: with 10 000 targets and an RTT histogram each, one scrape
 * of it cost about a second of CPU and half a gigabyte of transient memory. Here a series is
 * resolved once into a handle whose updates are plain additions, its label string is rendered
 * once, and a scrape streams lines in bounded chunks. Everything else stays on prom-client's
 * registry; /metrics serves both.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';

type Labels<L extends string> = Readonly<Record<L, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Prometheus text format value. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * A label set rendered once (`a="x",b="y"`, in the family's label order). The rendered text is
 * also the series key, so one string per label set serves every family that uses it.
 */
export interface LabelSet<L extends string> {
  readonly names: readonly L[];
  readonly rendered: string;
  /** the text is ASCII: its latin1 bytes are its UTF-8 */
  readonly ascii: boolean;
}

/** Whether a text is ASCII (checked once per label set, not per scrape). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export function labelSet<L extends string>(names: readonly L[], labels: Labels<L>): LabelSet<L> {
  const rendered = names.map((n) => `${n}="${escapeLabel(labels[n])}"`).join(',');
  return { names, rendered, ascii: isAscii(rendered) };
}

export type ChunkSink = (text: string) => void;

/**
 * Lines are gathered into strings of about this many characters before being handed on (as
 * text, or encoded into the byte buffers of a scrape, many chunks per buffer). A chunk being
 * built is what each scavenge of a scrape copies (with the packaged 1 MB semi-spaces, ~90 a
 * scrape at 10 000 targets): 4 K characters took those scavenges from ~11 to 3-8 ms and the
 * render of 10 000 targets from 38-43 to 31-35 ms; a 256 KB string is even promoted before it is
 * written (bench/README.md, "Scrape bytes", "Scrape chunks").
 */
export const CHUNK = 4 * 1024;

/**
 * Byte buffers of `size` that scrapes encode their text into, kept (up to `keep`) once their
 * consumer has taken the bytes: a scrape then writes into the same few buffers instead of
 * tens of MB of fresh memory, whose first touch costs page faults (bench/README.md, "Scrape
 * buffers").
 */
export class ByteBuffers {
  readonly size: number;
  readonly #keep: number;
  readonly #free: ArrayBuffer[] = [];

  constructor(size: number, keep: number) {
    this.size = size;
    this.#keep = keep;
  }

  /** a buffer of `size` bytes, a kept one when there is one */
  take(): Buffer {
    const b = this.#free.pop();
    return b === undefined ? Buffer.allocUnsafeSlow(this.size) : Buffer.from(b);
  }

  /**
   * Keeps the memory of a buffer from `take` (or a view of one) for another; the caller no
   * longer reads or writes it. Other buffers are left to the garbage collector.
   */
  release(bytes: Buffer): void {
    const b = bytes.buffer;
    if (b instanceof ArrayBuffer && b.byteLength === this.size && bytes.byteOffset === 0 && this.#free.length < this.#keep) this.#free.push(b);
  }
}

export type FastType = 'counter' | 'gauge' | 'histogram';

export interface FastMetric {
  readonly name: string;
  readonly help: string;
  readonly type: FastType;
  readonly labelNames: readonly string[];
  readonly seriesCount: number;
  /** the family's text is ASCII (its help and every label set of its series) */
  readonly ascii: boolean;
  /** the family's text in chunks of about CHUNK characters */
  chunks(): Generator<string>;
}

abstract class Family<L extends string, S> implements FastMetric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, S>();
  readonly #helpAscii: boolean;
  /** series whose label text is not ASCII */
  #nonAscii = 0;

  constructor(registry: FastRegistry, name: string, help: string, labelNames: readonly L[]) {
    this.name = name;
    this.help = help;
    this.#helpAscii = isAscii(help);
    this.labelNames = labelNames;
    registry.add(this);
  }

  protected abstract create(): S;
  abstract readonly type: FastType;
  /** the exposition lines of one series, newline-terminated */
  protected abstract lines(rendered: string, s: S): string;

  #check(ls: LabelSet<L>): void {
    if (ls.names !== this.labelNames) throw new AppError(ErrorCodes.MET_ERR_REGISTRY, `${this.name}: label set of other label names`);
  }

  /** the series of this label set, created (at zero) if new */
  child(ls: LabelSet<L>): S {
    let s = this.series.get(ls.rendered);
    if (s === undefined) {
      this.#check(ls);
      s = this.create();
      this.series.set(ls.rendered, s);
      if (!ls.ascii) this.#nonAscii++;
    }
    return s;
  }

  remove(ls: LabelSet<L>): void {
    if (this.series.delete(ls.rendered) && !ls.ascii) this.#nonAscii--;
  }

  get ascii(): boolean {
    return this.#helpAscii && this.#nonAscii === 0;
  }

  get seriesCount(): number {
    return this.series.size;
  }

  *chunks(): Generator<string> {
    let buf = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (const [rendered, s] of this.series) {
      buf += this.lines(rendered, s);
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    if (buf.length > 0) yield buf;
  }

}

export interface ValueHandle {
  value: number;
}

/** A counter or gauge family whose series are `{ value }` handles. */
export class FastFamily<L extends string> extends Family<L, ValueHandle> {
  readonly type: 'counter' | 'gauge';

  constructor(registry: FastRegistry, type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly L[]) {
    super(registry, name, help, labelNames);
    this.type = type;
  }

  protected create(): ValueHandle {
    return { value: 0 };
  }

  protected lines(rendered: string, s: ValueHandle): string {
    return `${this.name}{${rendered}} ${formatValue(s.value)}\n`;
  }
}

/** The index of the first bucket whose upper bound is ≥ v (bounds.length: the +Inf bucket). */
export function bucketIndex(bounds: readonly number[], v: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface HistogramHandle {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A classic histogram family with fixed upper bounds; `observe` is a search and two additions. */
export class FastHistogram<L extends string> extends Family<L, HistogramHandle> {
  readonly type = 'histogram';
  readonly bounds: readonly number[];
  readonly #le: string[];

  constructor(registry: FastRegistry, name: string, help: string, labelNames: readonly L[], bounds: readonly number[]) {
    super(registry, name, help, labelNames);
    this.bounds = bounds;
    this.#le = [...bounds.map((b) => formatValue(b)), '+Inf'].map((le) => `,le="${le}"} `);
  }

  protected create(): HistogramHandle {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  observe(h: HistogramHandle, v: number): void {
    h.counts[bucketIndex(this.bounds, v)]!++;
    h.sum += v;
    h.count++;
  }

  protected lines(rendered: string, s: HistogramHandle): string {
    const head = `${this.name}_bucket{${rendered}`;
    let acc = 0;
    let text = '';
    for (let i = 0; i < this.#le.length; i++) {
      acc += s.counts[i]!;
      text += `${head}${this.#le[i]!}${acc}\n`;
    }
    return `${text}${this.name}_sum{${rendered}} ${formatValue(s.sum)}\n${this.name}_count{${rendered}} ${s.count}\n`;
  }
}

/** The families exposed by wireprobe itself, in registration order. */
export class FastRegistry {
  readonly #metrics: FastMetric[] = [];

  add(m: FastMetric): void {
    if (this.#metrics.some((x) => x.name === m.name)) throw new AppError(ErrorCodes.MET_ERR_REGISTRY, `metric ${m.name} registered twice`);
    this.#metrics.push(m);
  }

  get names(): readonly string[] {
    return this.#metrics.map((m) => m.name);
  }

  /** the families, in registration order (for the generated metrics reference) */
  get families(): readonly FastMetric[] {
    return [...this.#metrics];
  }

  /** every family's text, in chunks: a consumer can wait between them (backpressure) */
  *chunks(): Generator<string> {
    for (const m of this.#metrics) yield* m.chunks();
  }

  /**
   * The same text as UTF-8 bytes, for the socket or zlib, packed into the buffers of `pool`: each
   * yielded buffer holds up to `pool.size` bytes of whole chunks (a chunk larger than that comes
   * as its own buffer). An ASCII family's text is copied as latin1, a byte per character, without
   * the UTF-8 encoder's length pass. The consumer gives each buffer back (`pool.release`) once
   * its bytes are consumed, or drops it.
   */
  *encoded(pool: ByteBuffers): Generator<Buffer> {
    let buf = pool.take();
    let off = 0;
    for (const m of this.#metrics) {
      const encoding = m.ascii ? 'latin1' : 'utf8';
      for (const c of m.chunks()) {
        const n = encoding === 'latin1' ? c.length : Buffer.byteLength(c, 'utf8');
        if (off + n > buf.length && off > 0) {
          yield buf.subarray(0, off);
          buf = pool.take();
          off = 0;
        }
        if (n > buf.length) yield Buffer.from(c, encoding);
        else off += buf.write(c, off, encoding);
      }
    }
    if (off > 0) yield buf.subarray(0, off);
    else pool.release(buf);
  }

  expose(out: ChunkSink): void {
    for (const c of this.chunks()) out(c);
  }
}
