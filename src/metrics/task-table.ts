/**
 * The per-(target, group) series of one probe type, as one table: a row per task, a typed-array
 * column per value. A row keeps its target's rendered T3 text (the string its other series use)
 * and the (state, group) text its tasks share; a scrape joins them. A task costs two references,
 * a map entry and a few dozen doubles, instead of an object, a map entry and a label set per
 * series (about 8 KB per target with prom-client-like children, see bench/README.md, "Memory").
 *
 * Each family of the table (sent, loss, loss ratio, percentiles, created, histogram, …) is a view
 * registered on the FastRegistry in its exposition place; its text is the same as a FastFamily
 * or FastHistogram with the same series would render. Rows keep their creation order: a removed
 * row is dropped from the order and the arrays are compacted once enough rows are dead.
 */
import { T3, T4, T5, type TaskLabelNames } from './labels.js';
import { bucketIndex, CHUNK, escapeHelp, formatValue, isAscii, labelSet, type FastMetric, type FastRegistry, type FastType, type LabelSet } from './fast.js';
const INITIAL_ROWS = 64;

/** A task's row; `row` is -1 once the series are removed (writes are then dropped). */
export interface TaskRow {
  row: number;
}

/** Percentile labels shared by every row with the same list. */
interface PctSet {
  readonly ps: readonly number[];
  /** `,percentile="50"` … */
  readonly labels: readonly string[];
}

export type TaskLabels = Readonly<Record<TaskLabelNames, string>>;

/** A row's labels: its target's T3 label set (shared with the target's other series), state and group. */
export interface TaskRowLabels {
  readonly t3: LabelSet<(typeof T3)[number]>;
  readonly state: string;
  readonly group: string;
}

/** The row labels of a full label set (T3 rendered here, not shared). */
export function taskRowLabels(labels: TaskLabels): TaskRowLabels {
  return { t3: labelSet(T3, labels), state: labels.state, group: labels.group };
}

/** The text after a row's T3 text, shared by the rows of one (state, group). */
interface Tail {
  /** `,state="…",group="…"` (T5) */
  readonly t5: string;
  /** `,group="…"` (T4) */
  readonly t4: string;
  readonly ascii: boolean;
}

type Col = 'sent' | 'loss' | 'indet' | 'sendErr' | 'icmpErr' | 'ratio' | 'last' | 'sentCreated' | 'lossCreated' | 'sum' | 'count';
const COLS: readonly Col[] = ['sent', 'loss', 'indet', 'sendErr', 'icmpErr', 'ratio', 'last', 'sentCreated', 'lossCreated', 'sum', 'count'];

/** bits of TaskTable.flags: series created by the first round, as netprobify does */
const HAS_RATIO = 1;
const HAS_RT = 2;

export interface TaskTableSpec {
  readonly prefix: string;
  readonly human: string;
  readonly icmpErrors: boolean;
  readonly bounds: readonly number[];
}

export class TaskTable {
  readonly bounds: readonly number[];
  /** live rows plus dead ones not compacted yet */
  #n = 0;
  #dead = 0;
  /** live rows whose label text is not ASCII */
  #nonAscii = 0;
  #cap = INITIAL_ROWS;
  /** the rendered T3 label text of each row, null when dead */
  #l3: (string | null)[] = [];
  #tail: Tail[] = [];
  #pct: PctSet[] = [];
  /** the owner of each row, or its owners when several share it (no array per row for the usual one) */
  #owners: (TaskRow | TaskRow[] | null)[] = [];
  /** T3 text → the last added live row with it; the others with it follow through `#next` */
  readonly #index = new Map<string, number>();
  /** the next live row with the same T3 text, -1 at the end */
  #next: Int32Array;
  readonly #tails = new Map<string, Tail>();
  readonly #pctSets = new Map<string, PctSet>();
  cols: Record<Col, Float64Array>;
  flags: Uint8Array;
  /** percentile values, `rtStride` per row */
  rt: Float64Array;
  rtStride = 1;
  /** histogram bucket counts (not cumulative), bounds.length + 1 per row */
  hist: Float64Array;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.cols = Object.fromEntries(COLS.map((c) => [c, new Float64Array(this.#cap)])) as Record<Col, Float64Array>;
    this.flags = new Uint8Array(this.#cap);
    this.#next = new Int32Array(this.#cap);
    this.rt = new Float64Array(this.#cap * this.rtStride);
    this.hist = new Float64Array(this.#cap * (bounds.length + 1));
  }

  get size(): number {
    return this.#n - this.#dead;
  }

  /** every live row's label text is ASCII */
  get ascii(): boolean {
    return this.#nonAscii === 0;
  }

  #pctSet(ps: readonly number[]): PctSet {
    const key = ps.join(',');
    let s = this.#pctSets.get(key);
    if (s === undefined) {
      s = { ps: [...ps], labels: ps.map((p) => `,${labelSet(['percentile'] as const, { percentile: String(p) }).rendered}`) };
      this.#pctSets.set(key, s);
    }
    return s;
  }

  #resize(cap: number, stride: number): void {
    const grow = (a: Float64Array, w: number, oldW = w): Float64Array => {
      const b = new Float64Array(cap * w);
      if (w === oldW) b.set(a.subarray(0, Math.min(a.length, b.length)));
      else for (let r = 0; r < this.#n; r++) b.set(a.subarray(r * oldW, r * oldW + Math.min(w, oldW)), r * w);
      return b;
    };
    for (const c of COLS) this.cols[c] = grow(this.cols[c], 1);
    const f = new Uint8Array(cap);
    f.set(this.flags.subarray(0, Math.min(this.flags.length, cap)));
    this.flags = f;
    const next = new Int32Array(cap);
    next.set(this.#next.subarray(0, Math.min(this.#next.length, cap)));
    this.#next = next;
    this.rt = grow(this.rt, stride, this.rtStride);
    this.rtStride = stride;
    this.hist = grow(this.hist, this.bounds.length + 1);
    this.#cap = cap;
  }

  #tailOf(state: string, group: string): Tail {
    const t5 = `,${labelSet(['state', 'group'] as const, { state, group }).rendered}`;
    let t = this.#tails.get(t5);
    if (t === undefined) {
      t = { t5, t4: `,${labelSet(['group'] as const, { group }).rendered}`, ascii: isAscii(t5) };
      this.#tails.set(t5, t);
    }
    return t;
  }

  /** The row of a (target, group), created at zero, or the existing one with the same labels. */
  add(owner: TaskRow, labels: TaskRowLabels, percentiles: readonly number[], nowWallMs: number): void {
    const l3 = labels.t3.rendered;
    const tail = this.#tailOf(labels.state, labels.group);
    const head = this.#index.get(l3) ?? -1;
    for (let r = head; r >= 0; r = this.#next[r]!) {
      if (this.#tail[r] !== tail) continue;
      owner.row = r;
      const o = this.#owners[r]!;
      if (Array.isArray(o)) o.push(owner);
      else this.#owners[r] = [o, owner];
      return;
    }
    const pct = this.#pctSet(percentiles);
    if (this.#n === this.#cap || pct.ps.length > this.rtStride) {
      if (this.#n === this.#cap && this.#dead > 0) this.#compact();
      const cap = this.#n === this.#cap ? this.#cap * 2 : this.#cap;
      this.#resize(cap, Math.max(this.rtStride, pct.ps.length));
    }
    const r = this.#n++;
    this.#l3[r] = l3;
    this.#tail[r] = tail;
    if (!labels.t3.ascii || !tail.ascii) this.#nonAscii++;
    this.#pct[r] = pct;
    this.#owners[r] = owner;
    this.#next[r] = head;
    this.#index.set(l3, r);
    for (const c of COLS) this.cols[c][r] = 0;
    this.cols.sentCreated[r] = nowWallMs / 1000;
    this.cols.lossCreated[r] = nowWallMs / 1000;
    this.flags[r] = 0;
    this.hist.fill(0, r * (this.bounds.length + 1), (r + 1) * (this.bounds.length + 1));
    owner.row = r;
  }

  /** Removes the row of `owner` (and so the series of every owner sharing it). */
  remove(owner: TaskRow): void {
    const r = owner.row;
    if (r < 0) return;
    this.#setRow(r, -1);
    const l3 = this.#l3[r]!;
    this.#unlink(l3, r);
    if (!this.#tail[r]!.ascii || !isAscii(l3)) this.#nonAscii--;
    this.#l3[r] = null;
    this.#owners[r] = null;
    this.#dead++;
    if (this.#dead > 64 && this.#dead * 2 > this.#n) this.#compact();
  }

  /** takes row r out of the rows with T3 text l3 */
  #unlink(l3: string, r: number): void {
    const next = this.#next[r]!;
    const head = this.#index.get(l3)!;
    if (head === r) {
      if (next < 0) this.#index.delete(l3);
      else this.#index.set(l3, next);
      return;
    }
    let p = head;
    while (this.#next[p] !== r) p = this.#next[p]!;
    this.#next[p] = next;
  }

  /** tells the owners of row r their row is now `row` */
  #setRow(r: number, row: number): void {
    const o = this.#owners[r];
    if (Array.isArray(o)) for (const x of o) x.row = row;
    else if (o) o.row = row;
  }

  /** Moves the live rows down, in order, and tells their owners. */
  #compact(): void {
    const hw = this.bounds.length + 1;
    // where each live row goes (the T3 links point to live rows only)
    const to = new Int32Array(this.#n);
    let w = 0;
    for (let r = 0; r < this.#n; r++) to[r] = this.#l3[r] == null ? -1 : w++;
    w = 0;
    for (let r = 0; r < this.#n; r++) {
      const l3 = this.#l3[r];
      if (l3 === null || l3 === undefined) continue;
      const next = this.#next[r]!;
      this.#next[w] = next < 0 ? -1 : to[next]!;
      if (this.#index.get(l3) === r) this.#index.set(l3, w);
      if (w !== r) {
        this.#l3[w] = l3;
        this.#tail[w] = this.#tail[r]!;
        this.#pct[w] = this.#pct[r]!;
        this.#owners[w] = this.#owners[r]!;
        this.#setRow(w, w);
        for (const c of COLS) this.cols[c][w] = this.cols[c][r]!;
        this.flags[w] = this.flags[r]!;
        this.rt.copyWithin(w * this.rtStride, r * this.rtStride, (r + 1) * this.rtStride);
        this.hist.copyWithin(w * hw, r * hw, (r + 1) * hw);
      }
      w++;
    }
    this.#l3.length = this.#tail.length = this.#pct.length = this.#owners.length = w;
    this.#n = w;
    this.#dead = 0;
  }

  setRatio(r: number, v: number): void {
    this.flags[r]! |= HAS_RATIO;
    this.cols.ratio[r] = v;
  }

  /** the percentile list of row r, its values written by `write(i, p)` */
  setPercentiles(r: number, value: (p: number) => number): void {
    this.flags[r]! |= HAS_RT;
    const ps = this.#pct[r]!.ps;
    const base = r * this.rtStride;
    for (let i = 0; i < ps.length; i++) this.rt[base + i] = value(ps[i]!);
  }

  observe(r: number, v: number): void {
    const b = this.bounds;
    this.hist[r * (b.length + 1) + bucketIndex(b, v)]!++;
    this.cols.sum[r]! += v;
    this.cols.count[r]!++;
  }

  /**
   * The text of a family of this table in chunks: `line(r, l5)` gives the lines of row r (empty
   * for a row without that series) from its T5 label text.
   */
  *chunks(head: string, line: (r: number, l5: string) => string): Generator<string> {
    let buf = head;
    for (let r = 0; r < this.#n; r++) {
      const l3 = this.#l3[r];
      if (l3 === null || l3 === undefined) continue;
      buf += line(r, l3 + this.#tail[r]!.t5);
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    if (buf.length > 0) yield buf;
  }

  /** rows with the flag bit set (the lazily created series) */
  count(bit: number): number {
    let n = 0;
    for (let r = 0; r < this.#n; r++) if (this.#l3[r] != null && (this.flags[r]! & bit) !== 0) n++;
    return n;
  }

  /** live rows' percentile count, summed over rows with percentiles */
  percentileSeries(): number {
    let n = 0;
    for (let r = 0; r < this.#n; r++) if (this.#l3[r] != null && (this.flags[r]! & HAS_RT) !== 0) n += this.#pct[r]!.ps.length;
    return n;
  }

  pctLabels(r: number): readonly string[] {
    return this.#pct[r]!.labels;
  }

  /** the T4 label text of row r (app_time_ooo_total) */
  l4(r: number): string {
    return this.#l3[r]! + this.#tail[r]!.t4;
  }
}

const header = (name: string, help: string, type: FastType): string => `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;

/** One family of a task table, in its place on the registry. */
class TableFamily implements FastMetric {
  readonly labelNames: readonly string[];
  readonly #table: TaskTable;
  readonly #line: (r: number, l5: string) => string;
  readonly #count: () => number;
  readonly #helpAscii: boolean;

  constructor(
    registry: FastRegistry,
    table: TaskTable,
    readonly name: string,
    readonly help: string,
    readonly type: FastType,
    spec: { labelNames: readonly string[]; line: (r: number, l5: string) => string; count: () => number },
  ) {
    this.#table = table;
    this.labelNames = spec.labelNames;
    this.#line = spec.line;
    this.#count = spec.count;
    this.#helpAscii = isAscii(help);
    registry.add(this);
  }

  get seriesCount(): number {
    return this.#count();
  }

  get ascii(): boolean {
    return this.#helpAscii && this.#table.ascii;
  }

  chunks(): Generator<string> {
    return this.#table.chunks(header(this.name, this.help, this.type), this.#line);
  }
}

/** A value column as a counter or gauge family; `bit`: the series exists only once the flag is set. */
export function columnFamily(registry: FastRegistry, t: TaskTable, col: Col, type: 'counter' | 'gauge', name: string, help: string, bit = 0): FastMetric {
  const line =
    bit === 0
      ? (r: number, l5: string): string => `${name}{${l5}} ${formatValue(t.cols[col][r]!)}\n`
      : (r: number, l5: string): string => ((t.flags[r]! & bit) === 0 ? '' : `${name}{${l5}} ${formatValue(t.cols[col][r]!)}\n`);
  return new TableFamily(registry, t, name, help, type, { labelNames: T5, line, count: () => (bit === 0 ? t.size : t.count(bit)) });
}

export function ratioFamily(registry: FastRegistry, t: TaskTable, name: string, help: string): FastMetric {
  return columnFamily(registry, t, 'ratio', 'gauge', name, help, HAS_RATIO);
}

/** The percentile gauges (T6: T5 and `percentile`), created by the first round. */
export function percentileFamily(registry: FastRegistry, t: TaskTable, name: string, help: string): FastMetric {
  const line = (r: number, l5: string): string => {
    if ((t.flags[r]! & HAS_RT) === 0) return '';
    const labels = t.pctLabels(r);
    const base = r * t.rtStride;
    let text = '';
    for (let i = 0; i < labels.length; i++) text += `${name}{${l5}${labels[i]!}} ${formatValue(t.rt[base + i]!)}\n`;
    return text;
  };
  return new TableFamily(registry, t, name, help, 'gauge', { labelNames: [...T5, 'percentile'], line, count: () => t.percentileSeries() });
}

/** The RTT histogram (classic, fixed bounds). */
export function histogramFamily(registry: FastRegistry, t: TaskTable, name: string, help: string): FastMetric {
  const le = [...t.bounds.map((b) => formatValue(b)), '+Inf'].map((x) => `,le="${x}"} `);
  const w = t.bounds.length + 1;
  const line = (r: number, l5: string): string => {
    const head = `${name}_bucket{${l5}`;
    let acc = 0;
    let text = '';
    const base = r * w;
    for (let i = 0; i < w; i++) {
      acc += t.hist[base + i]!;
      text += `${head}${le[i]!}${acc}\n`;
    }
    return `${text}${name}_sum{${l5}} ${formatValue(t.cols.sum[r]!)}\n${name}_count{${l5}} ${t.cols.count[r]!}\n`;
  };
  return new TableFamily(registry, t, name, help, 'histogram', { labelNames: T5, line, count: () => t.size });
}

/** app_time_ooo_total (T4) of every table: always 0 with kernel timestamps, kept for netprobify. */
export class TimeOooFamily implements FastMetric {
  readonly type = 'counter';
  readonly labelNames: readonly string[] = T4;
  readonly #tables: TaskTable[] = [];
  readonly #helpAscii: boolean;

  constructor(
    registry: FastRegistry,
    readonly name: string,
    readonly help: string,
  ) {
    this.#helpAscii = isAscii(help);
    registry.add(this);
  }

  add(t: TaskTable): void {
    this.#tables.push(t);
  }

  get seriesCount(): number {
    return this.#tables.reduce((a, t) => a + t.size, 0);
  }

  get ascii(): boolean {
    return this.#helpAscii && this.#tables.every((t) => t.ascii);
  }

  *chunks(): Generator<string> {
    let head = header(this.name, this.help, this.type);
    for (const t of this.#tables) {
      yield* t.chunks(head, (r) => `${this.name}{${t.l4(r)}} 0\n`);
      head = '';
    }
    if (head !== '') yield head;
  }
}
