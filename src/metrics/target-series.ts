/**
 * The life of every metric series of one target: resolution status and changes, thresholds,
 * the diagnostic counts of its probe type, and the per-(target, group) recorders of its tasks.
 * Each series is created when it becomes known and removed exactly (by label set) with it. The
 * target manager drives them through targets/series-handle.ts; the app gives it targetSeriesFactory.
 */
import type { GroupConfig, TargetConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { ProbeKind } from '../probes/types.js';
import { percentile } from '../stats/percentile.js';
import type { SeriesFactory, TargetSeriesHandle } from '../targets/series-handle.js';
import type { TargetTask } from '../targets/tasks.js';
import { T3, TH, type Catalog } from './catalog.js';
import { labelSet, type LabelSet } from './fast.js';
import { HostRecorder } from './host-record.js';
import { TaskRecorder } from './record.js';

export interface SeriesDeps {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly probeName: string;
  readonly percentiles: readonly number[];
}

const NO_THRESHOLDS: readonly LabelSet<(typeof TH)[number]>[] = [];

export class TargetSeries implements TargetSeriesHandle {
  readonly #d: SeriesDeps;
  readonly #cfg: TargetConfig;
  readonly #kind: ProbeKind;
  readonly #ls3: LabelSet<(typeof T3)[number]>;
  /** the threshold series set, to remove exactly (most targets have none: the shared empty list) */
  #thresholds: readonly LabelSet<(typeof TH)[number]>[] = NO_THRESHOLDS;

  constructor(deps: SeriesDeps, cfg: TargetConfig, kind: ProbeKind) {
    this.#d = deps;
    this.#cfg = cfg;
    this.#kind = kind;
    this.#ls3 = labelSet(T3, this.#labels3());
  }

  /** the labels of every series of the target (built when needed, not kept) */
  #labels3(): { probe_name: string; destination: string; address_family: string } {
    return { probe_name: this.#d.probeName, destination: this.#cfg.name, address_family: this.#cfg.address_family };
  }

  /** Registers every series known before the first round, so scrapes never miss the target. */
  prime(): void {
    const { catalog, clock } = this.#d;
    catalog.resolutionChange.ensure(this.#ls3);
    catalog.resolutionChangeCreated.set(this.#ls3, clock.wallMs() / 1000);
    for (const u of this.#kind.metrics.unmatched) catalog.unmatched[u.what]!.ensure(this.#ls3);
  }

  /** The destination resolves; `changed`: to other addresses than before (or for the first time). */
  resolved(changed: boolean): void {
    const { catalog } = this.#d;
    catalog.resolutionStatus.set(this.#ls3, 1);
    if (changed) catalog.resolutionChange.add(this.#ls3, 1);
  }

  /** The destination does not resolve (any more). */
  unresolved(): void {
    this.#d.catalog.resolutionStatus.set(this.#ls3, 0);
  }

  /** One threshold series per configured threshold and group; those set before are removed. */
  setThresholds(groups: readonly GroupConfig[]): void {
    const { catalog } = this.#d;
    const base = { ...this.#labels3(), state: this.#cfg.state ?? 'None', alert_level: this.#cfg.alert_level };
    for (const ls of this.#thresholds) catalog.threshold.remove(ls);
    const set: LabelSet<(typeof TH)[number]>[] = [];
    for (const group of groups) {
      for (const [type, value] of Object.entries(this.#cfg.threshold)) {
        if (typeof value !== 'number') continue;
        const ls = labelSet(TH, { ...base, type, group: group.name });
        catalog.threshold.child(ls).value = value;
        set.push(ls);
      }
    }
    this.#thresholds = set.length === 0 ? NO_THRESHOLDS : set;
  }

  /** The recorders of an active task: its per-address series follow its hosts, its per-task series stay. */
  attach(task: TargetTask): void {
    const m = this.#d.catalog.probes[this.#kind.metrics.prefix]!;
    const state = this.#cfg.state ?? 'None';
    const group = task.group.name;
    if (this.#cfg.per_host_metrics) {
      task.hostRecorder?.remove();
      task.hostRecorder = new HostRecorder(m, { ...this.#labels3(), state, group }, task.hosts);
    }
    task.recorder ??= new TaskRecorder(m, this.#d.catalog, { t3: this.#ls3, state, group }, this.#d.percentiles, percentile, this.#d.clock.wallMs());
  }

  /** Removes the series of a task that stops (its target inactive or gone). */
  detach(task: TargetTask): void {
    task.recorder?.remove();
    task.recorder = null;
    task.hostRecorder?.remove();
    task.hostRecorder = null;
  }

  /** one more answer from the target's address that matched none of our probes, for `what` */
  countUnmatched(what: string): void {
    if (!this.#kind.metrics.unmatched.some((u) => u.what === what)) return;
    this.#d.catalog.unmatched[what]!.add(this.#ls3, 1);
  }

  /** Removes every series of the target but its tasks' (see detach). */
  remove(): void {
    const { catalog } = this.#d;
    for (const t of catalog.targetTables) t.remove(this.#ls3);
    for (const ls of this.#thresholds) catalog.threshold.remove(ls);
    this.#thresholds = NO_THRESHOLDS;
  }
}

/** The factory the target manager gets (TargetManagerDeps.series): the series of `catalog`. */
export function targetSeriesFactory(catalog: Catalog, clock: Clock): SeriesFactory {
  // one deps object for every target created under the same global labels, not one each
  let deps: SeriesDeps | null = null;
  return (cfg, kind, { probeName, percentiles }) => {
    if (deps?.probeName !== probeName || deps.percentiles.join() !== percentiles.join()) deps = { catalog, clock, probeName, percentiles };
    return new TargetSeries(deps, cfg, kind);
  };
}
