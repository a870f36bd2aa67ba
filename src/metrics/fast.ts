/**
 * Per-target metric families on the hot path. prom-client's own children hash and validate
 * their labels on every call; with 10 000 targets that alone would cost more than the probing.
 * Here a series is resolved once into a handle whose updates are plain additions, and the
 * family is registered in the prom-client Registry, which does the exposition.
 */
import type { Registry } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

interface ExposedValue {
  value: number;
  labels?: Record<string, string>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  values: ExposedValue[];
}

abstract class Family<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, { labels: Labels<L>; s: S }>();

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  protected key(labels: Labels<L>): string {
    let k = '';
    for (const n of this.labelNames) k += `${labels[n]}\u0000`;
    return k;
  }

  protected abstract create(): S;

  /** the series for these labels, created (at zero) if new */
  child(labels: Labels<L>): S {
    const k = this.key(labels);
    let e = this.series.get(k);
    if (!e) {
      const copy = {} as Record<L, string>;
      for (const n of this.labelNames) copy[n] = labels[n];
      e = { labels: copy, s: this.create() };
      this.series.set(k, e);
    }
    return e.s;
  }

  remove(labels: Labels<L>): void {
    this.series.delete(this.key(labels));
  }

  get seriesCount(): number {
    return this.series.size;
  }

  abstract get(): Exposed;
}

export interface ValueHandle {
  value: number;
}

/** A counter or gauge family whose series are `{ value }` handles. */
export class FastFamily<L extends string> extends Family<L, ValueHandle> {
  readonly type: 'counter' | 'gauge';

  constructor(registry: Registry, type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly L[]) {
    super(registry, name, help, labelNames);
    this.type = type;
  }

  protected create(): ValueHandle {
    return { value: 0 };
  }

  get(): Exposed {
    const values: ExposedValue[] = [];
    for (const { labels, s } of this.series.values()) values.push({ value: s.value, labels: { ...labels } });
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }
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

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[], bounds: readonly number[]) {
    super(registry, name, help, labelNames);
    this.bounds = bounds;
    this.#le = bounds.map((b) => String(b));
  }

  protected create(): HistogramHandle {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  observe(h: HistogramHandle, v: number): void {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v <= b[mid]!) hi = mid;
      else lo = mid + 1;
    }
    h.counts[lo]!++;
    h.sum += v;
    h.count++;
  }

  get(): Exposed {
    const values: ExposedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, s } of this.series.values()) {
      const shared = { ...labels };
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ metricName: bucket, labels: { le: this.#le[i]! }, sharedLabels: shared, value: acc });
      }
      values.push({ metricName: bucket, labels: { le: '+Inf' }, sharedLabels: shared, value: s.count });
      values.push({ metricName: `${this.name}_sum`, sharedLabels: shared, value: s.sum });
      values.push({ metricName: `${this.name}_count`, sharedLabels: shared, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
