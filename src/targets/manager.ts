/**
 * Targets at run time: resolves destinations (asynchronously, re-resolving on schedule), finds
 * their egress routes, prepares one probe per (target, group, address), and keeps the loop's
 * tasks and the per-target health metrics (resolution status, thresholds) in step.
 */
import type { Config, GroupConfig, TargetConfig } from '../config/types.js';
import { groupsOfTarget } from '../config/membership.js';
import { expandDestination, MAX_SUBNET_ADDRESSES } from '../config/subnet.js';
import type { LookupFn } from '../dns/resolver.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Catalog } from '../metrics/catalog.js';
import { HostRecorder } from '../metrics/host-record.js';
import { TaskRecorder } from '../metrics/record.js';
import { T3, TH } from '../metrics/catalog.js';
import { labelSet, type LabelSet } from '../metrics/fast.js';
import type { Engine } from '../net/engine.js';
import type { RouteInfo, RouteResolver } from '../net/types.js';
import { addrHash, formatIp, parseIp } from '../packet/addr.js';
import { probeKindOf } from '../probes/index.js';
import { createSourcePool, type SourcePool } from '../probes/source-pool.js';
import type { PreparedProbe, ProbeKind } from '../probes/types.js';
import type { ProbeLoop, SchedTask } from '../scheduler/loop.js';
import { percentile } from '../stats/percentile.js';


interface TaskRt extends SchedTask {
  readonly group: GroupConfig;
  readonly portCursor: { n: number };
  readonly sourceCursor: { n: number };
  /** the group's source subnet round robin for the target's family, or null */
  readonly sources: SourcePool | null;
  /** present while the target is active; its series exist only then */
  recorder: TaskRecorder | null;
  /** per-address series (is_subnet with per_host_metrics), while active */
  hostRecorder: HostRecorder | null;
  /** the address of each of `probes` */
  hosts: readonly string[];
}

interface TargetRt {
  readonly cfg: TargetConfig;
  readonly kind: ProbeKind;
  /** the kind's number in the registry */
  readonly kindNumber: number;
  readonly family: 4 | 6;
  /** destination is a hostname (resolved and re-resolved), not a literal or subnet */
  readonly isHostname: boolean;
  readonly tasks: TaskRt[];
  addresses: readonly string[] | null;
  nextRefreshMono: number;
  resolving: boolean;
  active: boolean;
  /** removed from the target set: a pending resolution must not bring it back */
  retired: boolean;
  ls3: LabelSet<(typeof T3)[number]> | null;
  /** the threshold series set for it, to remove exactly */
  thresholds: LabelSet<(typeof TH)[number]>[];
}

export interface ApplySummary {
  readonly kept: number;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
}

export interface TargetManagerDeps {
  readonly config: Config;
  readonly catalog: Catalog;
  readonly engine: Engine;
  readonly loop: ProbeLoop;
  readonly routes: RouteResolver;
  readonly resolve: LookupFn;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

function sourcePoolOf(group: GroupConfig, family: 4 | 6): SourcePool | null {
  const subnet = family === 4 ? group.src_subnet_ipv4 : group.src_subnet_ipv6;
  return subnet === null ? null : createSourcePool(subnet);
}

function canonical(ip: string): string | null {
  const b = parseIp(ip);
  return b ? formatIp(b) : null;
}

export class TargetManager {
  readonly #d: TargetManagerDeps;
  #config: Config;
  #targets: TargetRt[] = [];
  /** probed address (addrHash) → the targets probing it, for the diagnostic counts */
  readonly #byPeer = new Map<number, Set<TargetRt>>();

  constructor(deps: TargetManagerDeps) {
    this.#d = deps;
    this.#config = deps.config;
    for (const cfg of Object.values(deps.config.targets)) {
      const rt = this.#create(cfg);
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
    const rt: TargetRt = {
      cfg,
      kind: found.kind,
      kindNumber: found.number,
      family: cfg.address_family === 'ipv6' ? 6 : 4,
      isHostname: !cfg.is_subnet && canonical(cfg.destination) === null,
      tasks: [],
      addresses: null,
      nextRefreshMono: 0,
      resolving: false,
      active: false,
      retired: false,
      ls3: null,
      thresholds: [],
    };
    for (const group of groups) rt.tasks.push(this.#makeTask(rt, group));
    return rt;
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
      const rt = this.#create(cfg);
      if (rt) fresh.push(rt);
    }
    for (const t of prev.values()) this.#retire(t);
    this.#targets = [...next, ...fresh];
    this.#prime(fresh);
    await this.#startAll(fresh);
    return { kept: next.length, added: fresh.length - changed, changed, removed: prev.size };
  }

  /** Stops a target and removes every series it had, exactly (by label set). */
  #retire(t: TargetRt): void {
    const { catalog } = this.#d;
    t.retired = true;
    this.#deactivate(t);
    const l3 = this.#ls3(t);
    for (const f of [catalog.resolutionStatus, catalog.resolutionChange, catalog.resolutionChangeCreated, ...Object.values(catalog.unmatched)]) {
      f.remove(l3);
    }
    for (const ls of t.thresholds) catalog.threshold.remove(ls);
    t.thresholds = [];
    this.#index(t, t.addresses, []);
  }

  get targetCount(): number {
    return this.#targets.length;
  }

  #labels3(t: TargetRt): { probe_name: string; destination: string; address_family: string } {
    return { probe_name: this.#config.global.probe_name, destination: t.cfg.name, address_family: t.cfg.address_family };
  }

  #ls3(t: TargetRt): LabelSet<(typeof T3)[number]> {
    return (t.ls3 ??= labelSet(T3, this.#labels3(t)));
  }

  #makeTask(t: TargetRt, group: GroupConfig): TaskRt {
    const task: TaskRt = {
      key: `${t.cfg.name}\u0000${group.name}`,
      nbPackets: t.cfg.nb_packets,
      timeoutS: t.cfg.timeout,
      probes: [],
      group,
      portCursor: { n: 0 },
      sourceCursor: { n: 0 },
      sources: sourcePoolOf(group, t.family),
      recorder: null,
      hostRecorder: null,
      hosts: [],
      perProbe: t.cfg.per_host_metrics,
      onRound: (r) => {
        task.recorder?.record(r);
        task.hostRecorder?.record(r);
      },
    };
    return task;
  }

  #attachRecorder(t: TargetRt, task: TaskRt): void {
    const { catalog, clock } = this.#d;
    const config = this.#config;
    const labels = { ...this.#labels3(t), state: t.cfg.state ?? 'None', group: task.group.name };
    if (t.cfg.per_host_metrics) {
      task.hostRecorder?.remove();
      task.hostRecorder = new HostRecorder(catalog.probes[t.kind.metrics.prefix]!, labels, task.hosts);
    }
    if (task.recorder) return;
    task.recorder = new TaskRecorder(catalog.probes[t.kind.metrics.prefix]!, catalog, labels, config.global.percentile, percentile, clock.wallMs());
  }

  /** First pass: literals and subnets now (one route lookup for all), hostnames in the background. */
  init(): Promise<void> {
    return this.#startAll(this.#targets);
  }

  async #startAll(targets: readonly TargetRt[]): Promise<void> {
    const literal: { t: TargetRt; addrs: string[] }[] = [];
    for (const t of targets) {
      if (t.tasks.length === 0) continue;
      const addrs = this.#literalAddresses(t);
      if (addrs) literal.push({ t, addrs });
      else this.#resolveHost(t);
    }
    const all = [...new Set(literal.flatMap((x) => x.addrs))];
    let routes = new Map<string, RouteInfo>();
    try {
      routes = await this.#d.routes.lookup(all, this.#d.signal);
    } catch (e) {
      this.#d.log.error('route lookup failed', { err: errorMessage(e) });
    }
    for (const { t, addrs } of literal) if (!t.retired) this.#activate(t, addrs, routes);
  }

  #literalAddresses(t: TargetRt): string[] | null {
    const dest = t.cfg.destination;
    if (t.cfg.is_subnet) return expandDestination(dest, MAX_SUBNET_ADDRESSES);
    const c = canonical(dest);
    return c ? [c] : null;
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
    const { resolve, clock, log, catalog } = this.#d;
    const done = (): void => {
      t.resolving = false;
      t.nextRefreshMono = clock.monoMs() + t.cfg.dns_update_interval * 1000;
    };
    resolve(t.cfg.destination, t.family)
      .then(async (address) => {
        if (t.retired) return;
        const addr = canonical(address) ?? address;
        if (t.active && t.addresses?.length === 1 && t.addresses[0] === addr) return;
        const routes = await this.#d.routes.lookup([addr], this.#d.signal);
        if (!t.retired) this.#activate(t, [addr], routes);
      })
      .catch((e: unknown) => {
        if (t.retired) return;
        log.warn('destination does not resolve: target inactive', { target: t.cfg.name, err: errorMessage(e) });
        catalog.resolutionStatus.child(this.#ls3(t)).value = 0;
        this.#deactivate(t);
      })
      .finally(done);
  }

  #activate(t: TargetRt, addrs: readonly string[], routes: Map<string, RouteInfo>): void {
    const { engine, log, catalog, loop } = this.#d;
    const perGroup = new Map<TaskRt, { probes: PreparedProbe[]; hosts: string[] }>(t.tasks.map((k) => [k, { probes: [], hosts: [] }]));
    for (const address of addrs) {
      const route = routes.get(address);
      if (!route) {
        log.warn('no route to destination address', { target: t.cfg.name, address });
        continue;
      }
      for (const task of t.tasks) {
        try {
          const capture = engine.captureFor(route.dev);
          const family = t.family;
          const probe = t.kind.prepare({
            target: t.cfg, group: task.group, address, family, route, capture, kind: t.kindNumber,
            portCursor: task.portCursor, sources: task.sources, sourceCursor: task.sourceCursor,
          });
          const mine = perGroup.get(task)!;
          mine.probes.push(probe);
          mine.hosts.push(address);
        } catch (e) {
          log.warn('cannot probe destination address', { target: t.cfg.name, group: task.group.name, address, err: errorMessage(e) });
        }
      }
    }
    this.#index(t, t.addresses, addrs);
    const l3 = this.#ls3(t);
    const changed = !t.addresses || t.addresses.join(',') !== addrs.join(',');
    t.addresses = addrs;
    t.active = true;
    catalog.resolutionStatus.child(l3).value = 1;
    if (changed) catalog.resolutionChange.child(l3).value++;
    this.#setThresholds(t);
    for (const task of t.tasks) {
      ({ probes: task.probes, hosts: task.hosts } = perGroup.get(task)!);
      this.#attachRecorder(t, task);
      loop.setTask(task);
    }
    log.debug('target active', { target: t.cfg.name, addresses: addrs.length });
  }

  #deactivate(t: TargetRt): void {
    if (!t.active) return;
    t.active = false;
    for (const task of t.tasks) {
      task.probes = [];
      this.#d.loop.removeTask(task.key);
      task.recorder?.remove();
      task.recorder = null;
      task.hostRecorder?.remove();
      task.hostRecorder = null;
    }
  }

  #setThresholds(t: TargetRt): void {
    const { catalog } = this.#d;
    const base = { ...this.#labels3(t), state: t.cfg.state ?? 'None', alert_level: t.cfg.alert_level };
    for (const ls of t.thresholds) catalog.threshold.remove(ls);
    t.thresholds = [];
    for (const task of t.tasks) {
      for (const [type, value] of Object.entries(t.cfg.threshold)) {
        if (typeof value !== 'number') continue;
        const ls = labelSet(TH, { ...base, type, group: task.group.name });
        catalog.threshold.child(ls).value = value;
        t.thresholds.push(ls);
      }
    }
  }

  /** Registers every series known in advance so scrapes never miss a target. */
  primeMetrics(): void {
    this.#prime(this.#targets);
  }

  #prime(targets: readonly TargetRt[]): void {
    const { catalog } = this.#d;
    for (const t of targets) {
      catalog.resolutionChange.child(this.#ls3(t));
      catalog.resolutionChangeCreated.child(this.#ls3(t)).value = this.#d.clock.wallMs() / 1000;
      for (const u of t.kind.metrics.unmatched) catalog.unmatched[u.what]!.child(this.#ls3(t));
    }
  }

  #index(t: TargetRt, before: readonly string[] | null, after: readonly string[]): void {
    const hash = (a: string): number => {
      const b = parseIp(a)!;
      return addrHash(b, 0, b.length);
    };
    for (const a of before ?? []) this.#byPeer.get(hash(a))?.delete(t);
    for (const a of after) {
      const h = hash(a);
      let set = this.#byPeer.get(h);
      if (!set) this.#byPeer.set(h, (set = new Set()));
      set.add(t);
    }
  }

  /** counts an answer that matched no probe against the targets probing its sender, once each */
  unmatched(what: string, peerHash: number): void {
    const family = this.#d.catalog.unmatched[what];
    if (!family) return;
    for (const t of this.#byPeer.get(peerHash) ?? []) {
      if (t.kind.metrics.unmatched.some((u) => u.what === what)) family.child(this.#ls3(t)).value++;
    }
  }
}
