/**
 * Composition: builds the core (registry, engine, worker pool, loop, targets) and composes the
 * app as an ordered list of services (lib/service.ts) run by a lifecycle: start in order, stop
 * in reverse order, reload fanned out in order. Subsystems come from subsystems/index.ts. No
 * process-level side effects here (see main.ts): /proc, /sys, commands and the clock are injected.
 */
import express from 'express';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import type { CheckDeps } from './checks/types.js';
import type { Config } from './config/types.js';
import type { LookupFn } from './dns/resolver.js';
import { createResolver } from './dns/resolver.js';
import { createHttpApp, httpLimits, listen } from './http/server.js';
import { statusRouter } from './status/router.js';
import type { LoadedConfig } from './config/load.js';
import { levelFromNetprobify } from './lib/logger.js';
import { ConfigReloader, type ReloadResult, type ReloadTrigger } from './reload.js';
import { TargetSet } from './targets/target-set.js';
import { TimerWheel } from './lib/timer-wheel.js';
import type { ExecFn, StreamFn } from './lib/exec.js';
import type { LogFields } from './lib/logger.js';
import { HeapCompactor, HEAP_COMPACTION, type HeapControl } from './lib/heap-compaction.js';
import type { MallocTrim } from './lib/malloc-trim.js';
import { createLifecycle, type ReloadOutcome, type Service } from './lib/service.js';
import { createCatalog, type Catalog } from './metrics/catalog.js';
import { registerEngineMetrics } from './metrics/engine-metrics.js';
import { registerProcessMetrics } from './metrics/process-metrics.js';
import { targetSeriesFactory } from './metrics/target-series.js';
import { Engine } from './net/engine.js';
import { probeKinds, sourcePortRanges } from './probes/index.js';
import type { EngineHostDeps, HostPacketIo } from './net/types.js';
import { MIN_PUMP_MS, ProbeLoop, type LoopOptions } from './scheduler/loop.js';
import { subsystems } from './subsystems/index.js';
import type { Subsystem, SubsystemContext } from './subsystems/types.js';
import { TargetManager } from './targets/manager.js';
import type { HopAnnotator } from './operations/annotate.js';
import type { OperationRunner } from './operations/types.js';
import { createOperationRunner } from './operations/runner.js';
import { operationKinds, operationPorts } from './operations/wire.js';
import { createFrameDecoder } from './workers/frame-decoder.js';
import { createWorkerPool } from './workers/pool.js';

export interface AppDeps extends EngineHostDeps {
  readonly version: string;
  readonly lookup: LookupFn;
  /** the config file (for reloads) and how to load one */
  readonly configPath: string;
  loadConfig(path: string): Promise<LoadedConfig>;
  /** reload when the file changes (besides SIGHUP, POST /-/reload and reload_conf_interval) */
  readonly watchConfig: boolean;
  /** link-level I/O for the host checks; called on first use only */
  readonly hostIo: () => HostPacketIo;
  /** bounded commands (host checks, failure actions, exec inventories) */
  readonly exec: ExecFn;
  readonly stream: StreamFn;
  /** filesystem roots read by the host checks: /proc and /sys, fixture trees in tests */
  readonly paths: CheckDeps['paths'];
  /** reverse DNS and AS numbers of the hops of on-demand traces; absent: none */
  readonly annotator?: HopAnnotator;
  /** the main thread's heap, compacted after reloads and scrapes (lib/heap-compaction.ts); absent: never */
  readonly heap?: HeapControl;
  /** glibc's malloc_trim, run after each compaction (lib/malloc-trim.ts); absent: never */
  readonly mallocTrim?: MallocTrim;
}

export interface App {
  readonly catalog: Catalog;
  /** resolves once targets are loaded and /metrics is served */
  start(): Promise<void>;
  /** stops every service in reverse start order, each draining its work for at most `drainMs` */
  stop(drainMs: number): Promise<void>;
  /** re-reads the config file; a bad one leaves the running config in place */
  reload(trigger: ReloadTrigger): Promise<ReloadResult>;
  /** the running target set (file, API, inventories) */
  readonly targets: TargetSet;
  /** on-demand ping, traceroute and mtr through the app's engine (also SubsystemContext.operations) */
  readonly operations: OperationRunner;
}

const DNS_TIMEOUT_MS = 5000;
/** a service that has not started after this fails the start */
const START_TIMEOUT_MS = 60_000;
/** a service that has not stopped this long after its drain is left behind */
const STOP_GRACE_MS = 1000;

/** The probing loop's options: pacing and admission control (global section, read at start). */
function loopOptions(config: Config): LoopOptions {
  const g = config.global;
  return {
    intervalS: g.interval,
    intervalPacketsS: g.interval_packets,
    admission: { maxLagMs: g.max_event_loop_lag * 1000, maxRate: g.max_probe_rate },
  };
}

/** Host packet I/O created on first use, so that configs without DHCP checks never open it. */
function lazyHostIo(make: () => HostPacketIo): HostPacketIo {
  let io: HostPacketIo | null = null;
  const get = (): HostPacketIo => (io ??= make());
  return {
    interfaceInfo: (iface) => get().interfaceInfo(iface),
    sendBroadcast: (iface, packet) => get().sendBroadcast(iface, packet),
    capture: (iface, filter, onFrame) => get().capture(iface, filter, onFrame),
  };
}

export async function createApp(config: Config, deps: AppDeps): Promise<App> {
  const { clock, log } = deps;
  const registry = new Registry();
  registerProcessMetrics(registry, clock.wallMs());
  const catalog = createCatalog(probeKinds.map((k) => k.metrics), registry, undefined, config.global.rtt_buckets);
  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  // the sends and the engine's pump share one timer, on one grid (see scheduler/loop.ts)
  const probeTimers = new TimerWheel(clock).clock;
  const engine = new Engine({
    sender: deps.sender(),
    captures: deps.captures,
    decoder: createFrameDecoder(pool),
    clock: probeTimers,
    log: log.child('engine'),
    idBase: deps.idBase,
    captureDelayMs: deps.captureDelayMs,
    pumpMs: MIN_PUMP_MS,
    probes: probeKinds,
    sourcePorts: sourcePortRanges(config),
    seqBase: deps.seqBase,
    onUnmatched: (what, peerHash) => manager?.unmatched(what, peerHash),
    reservedPorts: operationPorts(),
  });
  const probeName = config.global.probe_name;
  const startedWallMs = clock.wallMs();
  const abort = new AbortController();
  let manager: TargetManager | null = null;
  const loop = new ProbeLoop(
    {
      engine,
      clock: probeTimers,
      log: log.child('loop'),
      onIteration: (s) => catalog.iterationTime.labels({ probe_name: probeName }).set(s),
      beforeRound: () => manager?.refreshDue(),
    },
    loopOptions(config),
  );
  manager = new TargetManager({
    config,
    series: targetSeriesFactory(catalog, clock),
    quarantined: catalog.quarantined,
    engine,
    loop,
    routes: deps.routes,
    resolve: createResolver(deps.lookup, DNS_TIMEOUT_MS),
    clock,
    log: log.child('targets'),
    signal: abort.signal,
  });
  const targets = new TargetSet(
    config,
    async (merged) => {
      engine.setPortRanges(sourcePortRanges(merged));
      const s = await manager?.apply(merged);
      log.info('target set applied', { ...s });
    },
    log.child('targets'),
  );
  registerEngineMetrics(registry, () => ({
    ...engine.counters,
    inFlight: engine.inFlight,
    sendLagSeconds: loop.sendLagMs / 1000,
    probesDeferred: loop.admission.deferred,
    probesSkipped: loop.admission.skipped,
    admittedRate: loop.admission.rate,
    eventLoopLagSeconds: loop.admission.lastLagMs / 1000,
    workerTasks: pool.completed(),
    captures: engine.captureCounters(),
  }));
  const operations = createOperationRunner({
    engine,
    routes: deps.routes,
    lookup: createResolver(deps.lookup, DNS_TIMEOUT_MS),
    clock,
    log: log.child('operations'),
    kinds: operationKinds(probeKinds),
    ...(deps.annotator === undefined ? {} : { annotator: deps.annotator }),
  });
  const ctx: SubsystemContext = {
    config, clock, log, registry, version: deps.version, targets,
    exec: deps.exec, stream: deps.stream, paths: deps.paths, pool, hostIo: lazyHostIo(deps.hostIo), operations,
  };
  // one after the other: the registry's order is the start order (and metric registration order)
  const subs: Subsystem[] = [];
  for (const make of subsystems) {
    const sub = await make(ctx);
    if (sub !== null) subs.push(sub);
  }
  const routers = subs.flatMap((s) => (s.router === undefined ? [] : [s.router]));
  const compactor = deps.heap === undefined ? null : new HeapCompactor(deps.heap, HEAP_COMPACTION, clock, log.child('heap'), deps.mallocTrim ?? null);
  const reloader = new ConfigReloader({
    path: deps.configPath,
    load: (path) => deps.loadConfig(path),
    current: () => targets.config(),
    apply: async (next) => {
      await lifecycle.reload(next);
    },
    clock,
    log: log.child('reload'),
    setFailed: (v) => catalog.reloadFailed.labels({ probe_name: probeName }).set(v),
    setLastSuccess: (s) => catalog.reloadLastSuccess.set(s),
    countReload: (result) => catalog.reloads.labels({ result }).inc(),
    watchFile: deps.watchConfig,
    loaded: () => compactor?.afterReload(),
  });
  let ready = false;
  let server: Server | null = null;

  const services: Service<Config>[] = [
    {
      name: 'logging',
      reload: (next) => {
        log.setLevel(levelFromNetprobify(next.global.logging_level));
        return 'applied';
      },
    },
    {
      name: 'metrics',
      start: () => {
        catalog.netprobifyInfo.labels({ version: deps.version, scapy_version: 'none' }).set(1);
        catalog.info.labels({ version: deps.version }).set(1);
        catalog.reloadFailed.labels({ probe_name: probeName }).set(0);
        catalog.interval.labels({ probe_name: probeName }).set(config.global.interval);
        catalog.reloadLastSuccess.set(clock.wallMs() / 1000);
        for (const result of ['ok', 'failed', 'unchanged']) catalog.reloads.labels({ result }).inc(0);
        catalog.processTimedOut.labels({ probe_name: probeName }).inc(0);
        manager.primeMetrics();
      },
    },
    { name: 'workers', stop: () => pool.close() },
    {
      name: 'http',
      start: async () => {
        const http = createHttpApp({
          registry,
          fast: catalog.fast,
          ready: () => ready,
          reload: () => reloader.reload('http'),
          ...(routers.length > 0 ? { api: express.Router().use(...routers) } : {}),
          tokens: () => targets.config().api?.tokens ?? [],
          log: log.child('http'),
          ...(compactor === null ? {} : { scrapes: { started: () => compactor.scrapeStarted(), answered: () => compactor.scrapeAnswered() } }),
          status: statusRouter({
            identity: () => ({ probeName, version: deps.version, configFile: deps.configPath, startedWallMs, nowWallMs: clock.wallMs() }),
            tasks: () => manager.tasks(),
            reloads: () => reloader.history(),
            sections: () => subs.flatMap((s) => (s.statusSection === undefined ? [] : [s.statusSection()])),
          }),
        });
        server = await listen(http, config.global.prometheus_address, config.global.prometheus_port, httpLimits(config.global));
      },
      stop: () => new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    },
    { name: 'engine', stop: (drainMs) => engine.close(drainMs) },
    {
      name: 'probing',
      start: async () => {
        await manager.init();
        loop.start();
      },
      stop: () => {
        abort.abort();
        loop.stop();
      },
      reload: async (next): Promise<ReloadOutcome> => {
        await targets.setFile(next);
        return 'applied';
      },
    },
    ...subs,
    {
      name: 'reloader',
      start: () => reloader.start(),
      stop: () => {
        reloader.stop();
        compactor?.stop();
      },
    },
    {
      name: 'ready',
      start: () => {
        ready = true;
        const fields: LogFields = Object.assign({}, ...subs.map((s) => s.summary?.() ?? {})) as LogFields;
        log.info('probing', {
          targets: manager.targetCount,
          tasks: loop.taskCount,
          ...fields,
          listen: `${config.global.prometheus_address}:${config.global.prometheus_port}`,
        });
      },
      stop: () => {
        ready = false;
      },
    },
  ];
  const lifecycle = createLifecycle(services, { clock, log: log.child('lifecycle'), startTimeoutMs: START_TIMEOUT_MS, stopGraceMs: STOP_GRACE_MS });

  return {
    catalog,
    targets,
    operations,
    reload: (trigger) => reloader.reload(trigger),
    start: () => lifecycle.start(),
    stop: (drainMs) => lifecycle.stop(drainMs),
  };
}
