/**
 * Targets at run time: keeps the running target set in step with the config (apply), and each
 * target's life: addresses (literal at once, hostnames resolved in the background and
 * re-resolved on schedule), probes on their routes, the loop's tasks, and its metric series.
 * The parts: addresses.ts (what a destination stands for), routes.ts (route lookup),
 * prepare.ts (capture choice and probes), tasks.ts (the loop's tasks), series-handle.ts (its
 * metric series, made by the injected factory of metrics/target-series.ts), peer-index.ts (who
 * probes an address).
 */
import type { Config, GroupConfig, TargetConfig } from '../config/types.js';
import { groupsOfTarget } from '../config/membership.js';
import type { LookupFn } from '../dns/resolver.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { RouteInfo, RouteResolver } from '../net/types.js';
import { PacketSlab } from '../packet/pool.js';
import { probeKindOf } from '../probes/index.js';
import type { ProbeKind } from '../probes/types.js';
import type { ProbeLoop } from '../scheduler/loop.js';
import { isHostname, literalAddresses, resolveHostname } from './addresses.js';
import { PeerIndex } from './peer-index.js';
import { prepareProbes, type PrepareDeps, type TargetProbing } from './prepare.js';
import { lookupRoutes } from './routes.js';
import { Quarantine, type QuarantineDeps } from './quarantine.js';
import type { SeriesFactory, TargetSeriesHandle } from './series-handle.js';
import { createTask, TaskRotations, type RoundSummary, type TargetTask, type TaskOwner } from './tasks.js';

/** A target at run time; the owner of its tasks (a class: no closure per task or target). */
class TargetRt implements TargetProbing, TaskOwner {
  readonly cfg: TargetConfig;
  readonly kind: ProbeKind;
  readonly kindNumber: number;
  readonly family: 4 | 6;
  /** destination is a hostname (resolved and re-resolved), not a literal or subnet */
  readonly isHostname: boolean;
  readonly tasks: TargetTask[];
  readonly series: TargetSeriesHandle;
  addresses: readonly string[] | null = null;
  nextRefreshMono = 0;
  resolving = false;
  active = false;
  /** removed from the target set: a pending resolution must not bring it back */
  retired = false;
  /** the manager's handler of a task that cannot run (shared by every target) */
  readonly #failed: (t: TargetRt, err: unknown) => void;

  constructor(
    cfg: TargetConfig,
    found: { kind: ProbeKind; number: number },
    groups: readonly GroupConfig[],
    rotations: TaskRotations,
    series: TargetSeriesHandle,
    failed: (t: TargetRt, err: unknown) => void,
  ) {
    this.cfg = cfg;
    this.kind = found.kind;
    this.kindNumber = found.number;
    this.family = cfg.address_family === 'ipv6' ? 6 : 4;
    this.isHostname = isHostname(cfg);
    this.tasks = groups.map((g) => createTask(cfg, g, this.family, this, rotations.of(g, this.family, found.kind.usesPorts)));
    this.series = series;
    this.#failed = failed;
  }

  taskFailed(_task: TargetTask, err: unknown): void {
    this.#failed(this, err);
  }
}

/** One (target, group) as the status page lists it. */
export interface TaskStatus {
  readonly target: string;
  readonly group: string;
  readonly type: string;
  readonly destination: string;
  readonly family: 4 | 6;
  /** probing (its destination resolved); false: waiting for or failing resolution */
  readonly active: boolean;
  /** the task's own summary, updated in place at each round: read it before the next turn of the event loop */
  readonly last: RoundSummary | null;
}

export interface ApplySummary {
  readonly kept: number;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
}

export interface TargetManagerDeps {
  readonly config: Config;
  /** the metric series of each target (metrics/target-series.ts) */
  readonly series: SeriesFactory;
  /** counts the targets quarantined, by stage (`wireprobe_targets_quarantined_total`) */
  readonly quarantined: QuarantineDeps['counter'];
  /** the engine's capture choice (Engine.captureFor) */
  readonly engine: Pick<PrepareDeps, 'captureFor'>;
  readonly loop: Pick<ProbeLoop, 'setTask' | 'removeTask'>;
  readonly routes: RouteResolver;
  readonly resolve: LookupFn;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

export class TargetManager {
  readonly #d: TargetManagerDeps;
  readonly #prepare: PrepareDeps;
  #config: Config;
  #targets: TargetRt[] = [];
  /** probed address → the targets probing it, for the diagnostic counts */
  readonly #byPeer = new PeerIndex<TargetRt>();
  /** entries that failed to build or to run: left out until they change (targets/quarantine.ts) */
  readonly #quarantine: Quarantine;
  readonly #rotations = new TaskRotations();
  /** what every target does when one of its tasks cannot run */
  readonly #failed = (t: TargetRt, e: unknown): void => this.#quarantineRunning(t, e);

  constructor(deps: TargetManagerDeps) {
    this.#d = deps;
    this.#prepare = { captureFor: (iface) => deps.engine.captureFor(iface), log: deps.log, alloc: new PacketSlab().alloc };
    this.#config = deps.config;
    this.#quarantine = new Quarantine({ log: deps.log, counter: deps.quarantined });
    for (const cfg of Object.values(deps.config.targets)) {
      const rt = this.#quarantine.guard(cfg, (c) => this.#create(c));
      if (rt) this.#targets.push(rt);
    }
  }

  #groupsOf(cfg: TargetConfig): GroupConfig[] {
    return groupsOfTarget(this.#config, cfg).map((g) => this.#config.groups[g]!);
  }

  #create(cfg: TargetConfig): TargetRt | null {
    const { log } = this.#d;
    const found = probeKindOf(cfg.type);
    if (!found) {
      log.warn('probe type not supported yet: target not probed', { target: cfg.name, type: cfg.type });
      return null;
    }
    const groups = this.#groupsOf(cfg);
    if (groups.length === 0) log.warn('target belongs to no group: not probed', { target: cfg.name });
    const { probe_name: probeName, percentile: percentiles } = this.#config.global;
    return new TargetRt(cfg, found, groups, this.#rotations, this.#d.series(cfg, found.kind, { probeName, percentiles }), this.#failed);
  }

  /** A target whose rounds cannot run: quarantined, retired (its series removed), left out of the set. */
  #quarantineRunning(t: TargetRt, e: unknown): void {
    if (t.retired) return;
    this.#quarantine.add(t.cfg, 'run', e);
    this.#retire(t);
    this.#targets = this.#targets.filter((x) => x !== t);
  }

  /** Same target config and same groups (with the same settings): nothing to redo. */
  #unchanged(t: TargetRt, cfg: TargetConfig, sameGroups: boolean): boolean {
    // the usual case of an API or inventory change: the same objects, nothing to compare
    if (t.cfg === cfg && sameGroups) return true;
    if (JSON.stringify(t.cfg) !== JSON.stringify(cfg)) return false;
    return JSON.stringify(this.#groupsOf(cfg)) === JSON.stringify(t.tasks.map((k) => k.group));
  }

  /**
   * Applies a new target set (config reload, API, inventories). Targets whose config and groups
   * are unchanged keep probing untouched (no gap; their counters go on); removed ones lose
   * exactly their series; new and changed ones start as at startup.
   */
  async apply(config: Config): Promise<ApplySummary> {
    const before = this.#config.global;
    const sameGroups = this.#config.groups === config.groups;
    this.#config = config;
    const relabel = before.probe_name !== config.global.probe_name || before.percentile.join() !== config.global.percentile.join();
    const prev = new Map(this.#targets.map((t) => [t.cfg.name, t]));
    const next: TargetRt[] = [];
    const fresh: TargetRt[] = [];
    let changed = 0;
    for (const cfg of Object.values(config.targets)) {
      const old = prev.get(cfg.name);
      prev.delete(cfg.name);
      if (old && !relabel && this.#unchanged(old, cfg, sameGroups)) {
        next.push(old);
        continue;
      }
      if (old) {
        this.#retire(old);
        changed++;
      }
      const rt = this.#quarantine.guard(cfg, (c) => this.#create(c));
      if (rt) fresh.push(rt);
    }
    for (const t of prev.values()) this.#retire(t);
    this.#quarantine.keepOnly(new Set(Object.keys(config.targets)));
    this.#targets = [...next, ...fresh];
    for (const t of fresh) t.series.prime();
    await this.#startAll(fresh);
    return { kept: next.length, added: fresh.length - changed, changed, removed: prev.size };
  }

  /** Stops a target and removes every series it had, exactly (by label set). */
  #retire(t: TargetRt): void {
    t.retired = true;
    this.#deactivate(t);
    t.series.remove();
    this.#byPeer.move(t, t.addresses, []);
  }

  get targetCount(): number {
    return this.#targets.length;
  }

  /** Every probed (target, group) with its last round, in target order (a snapshot; no copies of the rounds). */
  *tasks(): Iterable<TaskStatus> {
    for (const t of this.#targets) {
      for (const task of t.tasks) {
        yield { target: t.cfg.name, group: task.group.name, type: t.cfg.type, destination: t.cfg.destination, family: t.family, active: t.active, last: task.last };
      }
    }
  }

  /** First pass: literals and subnets now (one route lookup for all), hostnames in the background. */
  init(): Promise<void> {
    return this.#startAll(this.#targets);
  }

  async #startAll(targets: readonly TargetRt[]): Promise<void> {
    const literal: { t: TargetRt; addrs: string[] }[] = [];
    for (const t of targets) {
      if (t.tasks.length === 0) continue;
      const addrs = literalAddresses(t.cfg);
      if (addrs) literal.push({ t, addrs });
      else this.#resolveHost(t);
    }
    const all = [...new Set(literal.flatMap((x) => x.addrs))];
    const routes = await lookupRoutes(this.#d.routes, all, this.#d.signal, this.#d.log);
    for (const { t, addrs } of literal) if (!t.retired) this.#activate(t, addrs, routes);
  }

  /** At each round start: launch the DNS refreshes that are due (never awaited by the loop). */
  refreshDue(): void {
    const now = this.#d.clock.monoMs();
    for (const t of this.#targets) {
      if (t.isHostname && t.tasks.length > 0 && !t.resolving && now >= t.nextRefreshMono) this.#resolveHost(t);
    }
  }

  #resolveHost(t: TargetRt): void {
    t.resolving = true;
    const { resolve, clock, log } = this.#d;
    const done = (): void => {
      t.resolving = false;
      t.nextRefreshMono = clock.monoMs() + t.cfg.dns_update_interval * 1000;
    };
    resolveHostname(resolve, t.cfg, t.family)
      .then(async (addr) => {
        if (t.retired) return;
        if (t.active && t.addresses?.length === 1 && t.addresses[0] === addr) return;
        const routes = await this.#d.routes.lookup([addr], this.#d.signal);
        if (!t.retired) this.#activate(t, [addr], routes);
      })
      .catch((e: unknown) => {
        if (t.retired) return;
        log.warn('destination does not resolve: target inactive', { target: t.cfg.name, err: errorMessage(e) });
        t.series.unresolved();
        this.#deactivate(t);
      })
      .finally(done);
  }

  #activate(t: TargetRt, addrs: readonly string[], routes: ReadonlyMap<string, RouteInfo>): void {
    const perTask = prepareProbes(this.#prepare, t, t.tasks, addrs, routes);
    this.#byPeer.move(t, t.addresses, addrs);
    const changed = !t.addresses || t.addresses.join(',') !== addrs.join(',');
    t.addresses = addrs;
    t.active = true;
    t.series.resolved(changed);
    t.series.setThresholds(t.tasks.map((k) => k.group));
    for (const task of t.tasks) {
      ({ probes: task.probes, hosts: task.hosts } = perTask.get(task)!);
      t.series.attach(task);
      this.#d.loop.setTask(task);
    }
    this.#d.log.debug('target active', { target: t.cfg.name, addresses: addrs.length });
  }

  #deactivate(t: TargetRt): void {
    if (!t.active) return;
    t.active = false;
    for (const task of t.tasks) {
      task.probes = [];
      this.#d.loop.removeTask(task.key);
      t.series.detach(task);
    }
  }

  /** Registers every series known in advance so scrapes never miss a target. */
  primeMetrics(): void {
    for (const t of this.#targets) t.series.prime();
  }

  /** counts an answer that matched no probe against the targets probing its sender, once each */
  unmatched(what: string, peerHash: number): void {
    for (const t of this.#byPeer.targets(peerHash)) t.series.countUnmatched(what);
  }
}
