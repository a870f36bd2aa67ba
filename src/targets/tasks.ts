/**
 * The loop's tasks of a target: one per (target, group), with the round robins (source ports,
 * source addresses) that carry over from round to round, and the recorders its rounds feed.
 */
import type { GroupConfig, TargetConfig } from '../config/types.js';
import { createSourcePool, type SourcePool } from '../probes/source-pool.js';
import type { PreparedProbe } from '../probes/types.js';
import { Rotation } from '../probes/rotation.js';
import type { SchedTask } from '../scheduler/loop.js';
import type { RoundResult } from '../scheduler/round.js';
import type { RoundSummaries, RoundSummary } from './summaries.js';

/**
 * What a task's rounds feed: a set of metric series (the recorders of metrics/record.ts and
 * metrics/host-record.ts, created by metrics/target-series.ts).
 */
export interface RoundRecorder {
  record(r: RoundResult): void;
  /** removes its series, exactly */
  remove(): void;
}

/** Who hears of a task the loop could not run (the target manager's target). */
export interface TaskOwner {
  taskFailed(task: TargetTask, err: unknown): void;
}

/** TargetTask's summary row before its first round, and once given back */
const NO_ROW = -1;
const RETIRED = -2;

/**
 * The loop's task of one (target, group). A class: its methods are shared by every task, so a
 * task keeps no closure; it keeps no config object but its group (the series and the status page
 * read it).
 */
export class TargetTask implements SchedTask {
  readonly key: string;
  readonly nbPackets: number;
  readonly timeoutS: number;
  readonly perProbe: boolean;
  /** one prepared probe per destination address; empty while unresolved */
  probes: readonly PreparedProbe[] = [];
  readonly group: GroupConfig;
  /** the round robins (source ports, source addresses) of the task's probes; shared by the group's tasks that never turn them (rotationOf) */
  readonly rotation: Rotation;
  /** present while the target is active; its series exist only then */
  recorder: RoundRecorder | null = null;
  /** per-address series (is_subnet with per_host_metrics), while active */
  hostRecorder: RoundRecorder | null = null;
  /** the address of each of `probes` */
  hosts: readonly string[] = [];
  /** where the last round's summary is kept (status page) */
  readonly #summaries: RoundSummaries;
  /** its row there: NO_ROW before the first round, RETIRED once given back */
  #summary = NO_ROW;
  /** hears of a failure of the task (the loop has removed it); none: the failure is only the loop's */
  owner: TaskOwner | null;

  constructor(cfg: TargetConfig, group: GroupConfig, family: 4 | 6, summaries: RoundSummaries, owner: TaskOwner | null, usesPorts: boolean) {
    this.key = `${cfg.name}\u0000${group.name}`;
    this.nbPackets = cfg.nb_packets;
    this.timeoutS = cfg.timeout;
    this.perProbe = cfg.per_host_metrics;
    this.group = group;
    this.rotation = rotationOf(group, family, usesPorts);
    this.#summaries = summaries;
    this.owner = owner;
  }

  /** the last round's summary (status page), a copy; null before the first */
  get last(): RoundSummary | null {
    return this.#summary >= 0 ? this.#summaries.read(this.#summary) : null;
  }

  onRound(r: RoundResult): void {
    if (this.#summary === NO_ROW) this.#summary = this.#summaries.take();
    // a round cut short may settle after its target is gone: its summary is not kept
    if (this.#summary >= 0) this.#summaries.update(this.#summary, r);
    this.recorder?.record(r);
    this.hostRecorder?.record(r);
  }

  onFailure(err: unknown): void {
    this.owner?.taskFailed(this, err);
  }

  /** The task is gone for good (its target retired): its summary row is given back. */
  retire(): void {
    if (this.#summary >= 0) this.#summaries.release(this.#summary);
    this.#summary = RETIRED;
  }
}


function sourcePoolOf(group: GroupConfig, family: 4 | 6): SourcePool | null {
  const subnet = family === 4 ? group.src_subnet_ipv4 : group.src_subnet_ipv6;
  return subnet === null ? null : createSourcePool(subnet);
}

/** the round robins nothing turns, one per group (see rotationOf) */
const stillRotations = new WeakMap<GroupConfig, Rotation>();

/**
 * The round robins of a (target, group). A task whose probe type uses no source ports (ICMP)
 * and whose group has no source subnet for its family never turns them: it shares one object
 * with every such task of its group (64 bytes less per task: 0.6 MB at 10 000 ICMP targets).
 */
function rotationOf(group: GroupConfig, family: 4 | 6, usesPorts: boolean): Rotation {
  const sources = sourcePoolOf(group, family);
  if (usesPorts || sources !== null) return new Rotation(group.src_port_a, group.src_port_z, sources);
  let still = stillRotations.get(group);
  if (still === undefined) {
    still = new Rotation(group.src_port_a, group.src_port_z, null);
    stillRotations.set(group, still);
  }
  return still;
}

/**
 * A new task of (target, group): no probes yet, no recorders; its rounds go to the recorders it
 * will have. `usesPorts`: its probe type takes source ports from the rotation (ProbeKind.usesPorts).
 */
export function createTask(cfg: TargetConfig, group: GroupConfig, family: 4 | 6, summaries: RoundSummaries, owner: TaskOwner | null = null, usesPorts = true): TargetTask {
  return new TargetTask(cfg, group, family, summaries, owner, usesPorts);
}
