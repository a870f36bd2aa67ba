/**
 * The per-target (T3) families — app_host_resolution_status, _change_total, _change_created and
 * the probe types' unmatched-answer counts — as one table: a row per target label set (its T3
 * text, the string its other series use), a value and a creation number per family in typed
 * arrays, one index for every family. A FastFamily each kept a map entry and a `{ value }`
 * object per target and family (~2.4 MB for the three resolution families at 10 000 targets).
 *
 * The text is what FastFamily families with the same calls would render: a family lists its
 * series in the order they were created (the creation numbers, not the rows, decide), and
 * removing a target's label set removes its series from every family of the table at once, as
 * TargetSeries.remove does.
 */
import type { T3 } from './labels.js';
import { CHUNK, escapeHelp, formatValue, isAscii, type FastMetric, type FastRegistry, type LabelSet } from './fast.js';

type T3Set = LabelSet<(typeof T3)[number]>;

const INITIAL_ROWS = 64;

export class TargetTable {
  /** families (columns) */
  readonly width: number;
  /** live rows plus dead ones not compacted yet */
  #n = 0;
  #dead = 0;
  #cap = INITIAL_ROWS;
  /** each family's series whose T3 text is not ASCII */
  readonly #nonAscii: Int32Array;
  /** the last creation number given */
  #created = 0;
  /** each row's T3 text, null when dead */
  #l3: (string | null)[] = [];
  readonly #index = new Map<string, number>();
  /** family c's value of row r at r * width + c */
  values: Float64Array;
  /** when family c's series of row r was created (0: it does not exist), same layout */
  #seq: Float64Array;

  constructor(width: number) {
    this.width = width;
    this.values = new Float64Array(this.#cap * width);
    this.#seq = new Float64Array(this.#cap * width);
    this.#nonAscii = new Int32Array(width);
  }

  /** every series of family c has ASCII label text */
  ascii(c: number): boolean {
    return this.#nonAscii[c] === 0;
  }

  #grow(): void {
    if (this.#dead > 0) this.#compact();
    if (this.#n < this.#cap) return;
    this.#cap *= 2;
    const values = new Float64Array(this.#cap * this.width);
    values.set(this.values);
    this.values = values;
    const seq = new Float64Array(this.#cap * this.width);
    seq.set(this.#seq);
    this.#seq = seq;
  }

  /**
   * The index in `values` of family c's series of `ls`, the series created (at 0) if new, as
   * FastFamily.child does.
   */
  slot(ls: T3Set, c: number): number {
    let r = this.#index.get(ls.rendered);
    if (r === undefined) {
      if (this.#n === this.#cap) this.#grow();
      r = this.#n++;
      this.#l3[r] = ls.rendered;
      this.#index.set(ls.rendered, r);
    }
    const i = r * this.width + c;
    if (this.#seq[i] === 0) {
      this.#seq[i] = ++this.#created;
      this.values[i] = 0;
      if (!ls.ascii) this.#nonAscii[c]!++;
    }
    return i;
  }

  /** Removes every series of `ls`, in every family. */
  remove(ls: T3Set): void {
    const r = this.#index.get(ls.rendered);
    if (r === undefined) return;
    this.#index.delete(ls.rendered);
    if (!ls.ascii) for (let c = 0; c < this.width; c++) if (this.#seq[r * this.width + c]! > 0) this.#nonAscii[c]!--;
    this.#l3[r] = null;
    this.#seq.fill(0, r * this.width, (r + 1) * this.width);
    this.#dead++;
    if (this.#dead > 64 && this.#dead * 2 > this.#n) this.#compact();
  }

  /** Moves the live rows down, in order (creation numbers move with them). */
  #compact(): void {
    const w0 = this.width;
    let w = 0;
    for (let r = 0; r < this.#n; r++) {
      const l3 = this.#l3[r];
      if (l3 === null || l3 === undefined) continue;
      if (w !== r) {
        this.#l3[w] = l3;
        this.#index.set(l3, w);
        this.values.copyWithin(w * w0, r * w0, (r + 1) * w0);
        this.#seq.copyWithin(w * w0, r * w0, (r + 1) * w0);
      }
      w++;
    }
    this.#seq.fill(0, w * w0, this.#n * w0);
    this.#l3.length = w;
    this.#n = w;
    this.#dead = 0;
  }

  /** series of family c */
  count(c: number): number {
    let n = 0;
    for (let r = 0; r < this.#n; r++) if (this.#seq[r * this.width + c]! > 0) n++;
    return n;
  }

  /** The rows of family c's series in their creation order (the row order unless a row got its series later). */
  *#order(c: number): Generator<number> {
    const w = this.width;
    let last = 0;
    let sorted = true;
    for (let r = 0; r < this.#n && sorted; r++) {
      const s = this.#seq[r * w + c]!;
      if (s === 0) continue;
      sorted = s > last;
      last = s;
    }
    if (sorted) {
      for (let r = 0; r < this.#n; r++) if (this.#seq[r * w + c]! > 0) yield r;
      return;
    }
    const rows: number[] = [];
    for (let r = 0; r < this.#n; r++) if (this.#seq[r * w + c]! > 0) rows.push(r);
    rows.sort((a, b) => this.#seq[a * w + c]! - this.#seq[b * w + c]!);
    yield* rows;
  }

  /** family c's text after `head`, in chunks of about CHUNK characters */
  *chunks(c: number, head: string, name: string): Generator<string> {
    let buf = head;
    for (const r of this.#order(c)) {
      buf += `${name}{${this.#l3[r]!}} ${formatValue(this.values[r * this.width + c]!)}\n`;
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    if (buf.length > 0) yield buf;
  }
}

/** One family of a target table (column `col`), in its place on the registry. */
export class TargetFamily implements FastMetric {
  readonly labelNames: readonly string[];
  readonly #helpAscii: boolean;

  constructor(
    registry: FastRegistry,
    readonly table: TargetTable,
    readonly col: number,
    readonly type: 'counter' | 'gauge',
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    this.labelNames = labelNames;
    this.#helpAscii = isAscii(help);
    registry.add(this);
  }

  /** the series of `ls`, created at 0 if new (FastFamily.child) */
  ensure(ls: T3Set): void {
    this.table.slot(ls, this.col);
  }

  set(ls: T3Set, v: number): void {
    this.table.values[this.table.slot(ls, this.col)] = v;
  }

  add(ls: T3Set, d: number): void {
    this.table.values[this.table.slot(ls, this.col)]! += d;
  }

  get seriesCount(): number {
    return this.table.count(this.col);
  }

  get ascii(): boolean {
    return this.#helpAscii && this.table.ascii(this.col);
  }

  chunks(): Generator<string> {
    return this.table.chunks(this.col, `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`, this.name);
  }
}
