/**
 * Composition: wires config, engine, worker pool, targets, loop, metrics and HTTP together and
 * returns start/stop handles. No process-level side effects here (see main.ts).
 */
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { checkKinds } from './checks/index.js';
import { createCheckRunner, type CheckRunner } from './checks/runner.js';
import type { CheckKindName, Config } from './config/types.js';
import type { LookupFn } from './dns/resolver.js';
import { createResolver } from './dns/resolver.js';
import { createHttpApp, listen } from './http/server.js';
import type { LoadedConfig } from './config/load.js';
import { levelFromNetprobify } from './lib/logger.js';
import { ConfigReloader, type ReloadResult, type ReloadTrigger } from './reload.js';
import { TargetSet } from './targets/target-set.js';
import { createInventories } from './inventory/inventories.js';
import { createApi } from './api/index.js';
import type { Clock } from './lib/clock.js';
import { execCommand, streamCommand } from './lib/exec.js';
import type { Logger } from './lib/logger.js';
import { createCatalog, type Catalog } from './metrics/catalog.js';
import { createCheckMetrics } from './metrics/check-metrics.js';
import { registerEngineMetrics } from './metrics/engine-metrics.js';
import { registerProcessMetrics } from './metrics/process-metrics.js';
import { Engine } from './net/engine.js';
import { probeKinds, sourcePortRanges } from './probes/index.js';
import type { CaptureFactory, HostPacketIo, RawSender, RouteResolver } from './net/types.js';
import { ProbeLoop } from './scheduler/loop.js';
import { TargetManager } from './targets/manager.js';
import { createFrameDecoder } from './workers/frame-decoder.js';
import { createWorkerPool } from './workers/pool.js';

export interface AppDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly version: string;
  readonly lookup: LookupFn;
  readonly routes: RouteResolver;
  readonly sender: () => RawSender;
  readonly captures: CaptureFactory;
  readonly idBase: number;
  /** base of TCP sequence numbers */
  readonly seqBase: number;
  /** must match the capture factory's buffer timeout */
  readonly captureDelayMs: number;
  /** the config file (for reloads) and how to load one */
  readonly configPath: string;
  loadConfig(path: string): Promise<LoadedConfig>;
  /** reload when the file changes (besides SIGHUP, POST /-/reload and reload_conf_interval) */
  readonly watchConfig: boolean;
  /** link-level I/O for the host checks; called on first use only */
  readonly hostIo: () => HostPacketIo;
}

export interface App {
  readonly catalog: Catalog;
  /** resolves once targets are loaded and /metrics is served */
  start(): Promise<void>;
  /** stops probing, drains in-flight probes for at most `drainMs`, closes everything */
  stop(drainMs: number): Promise<void>;
  /** re-reads the config file; a bad one leaves the running config in place */
  reload(trigger: ReloadTrigger): Promise<ReloadResult>;
  /** the running target set (file, API, inventories) */
  readonly targets: TargetSet;
}

const DNS_TIMEOUT_MS = 5000;
/** how long a reload waits for running host checks to stop */
const CHECKS_STOP_MS = 2000;

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

export function createApp(config: Config, deps: AppDeps): App {
  const { clock, log } = deps;
  const registry = new Registry();
  registerProcessMetrics(registry, clock.wallMs());
  const catalog = createCatalog(probeKinds.map((k) => k.metrics), registry);
  const pool = createWorkerPool({ minThreads: 1, maxThreads: 1 });
  const engine = new Engine({
    sender: deps.sender(),
    captures: deps.captures,
    decoder: createFrameDecoder(pool),
    clock,
    log: log.child('engine'),
    idBase: deps.idBase,
    captureDelayMs: deps.captureDelayMs,
    pumpMs: 50,
    probes: probeKinds,
    sourcePorts: sourcePortRanges(config),
    seqBase: deps.seqBase,
    onUnmatched: (what, peerHash) => manager?.unmatched(what, peerHash),
  });
  const probeName = config.global.probe_name;
  const abort = new AbortController();
  let manager: TargetManager | null = null;
  const loop = new ProbeLoop(
    {
      engine,
      clock,
      log: log.child('loop'),
      onIteration: (s) => catalog.iterationTime.labels({ probe_name: probeName }).set(s),
      beforeRound: () => manager?.refreshDue(),
    },
    { intervalS: config.global.interval, intervalPacketsS: config.global.interval_packets },
  );
  manager = new TargetManager({
    config,
    catalog,
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
  const inventories = createInventories({
    sources: targets,
    clock,
    log: log.child('inventory'),
    registry,
    exec: execCommand,
    version: deps.version,
  });
  const api = config.api?.enabled === true
    ? createApi({ sources: targets, config: config.api, clock, log: log.child('api'), registry })
    : null;
  const reloader = new ConfigReloader({
    path: deps.configPath,
    load: (path) => deps.loadConfig(path),
    current: () => targets.config(),
    apply: async (next) => {
      log.setLevel(levelFromNetprobify(next.global.logging_level));
      await reloadChecks(next.checks);
      await targets.setFile(next);
    },
    clock,
    log: log.child('reload'),
    setFailed: (v) => catalog.reloadFailed.labels({ probe_name: probeName }).set(v),
    setLastSuccess: (s) => catalog.reloadLastSuccess.set(s),
    countReload: (result) => catalog.reloads.labels({ result }).inc(),
    watchFile: deps.watchConfig,
  });
  registerEngineMetrics(registry, () => ({
    ...engine.counters,
    inFlight: engine.inFlight,
    sendLagSeconds: loop.sendLagMs / 1000,
    workerTasks: pool.completed(),
    captures: engine.captureCounters(),
  }));
  const checksLog = log.child('checks');
  const checkRecorder = createCheckMetrics(registry, Object.values(checkKinds));
  const hostIo = lazyHostIo(deps.hostIo);
  const makeChecks = (cfg: Config['checks']): CheckRunner => createCheckRunner({
    kinds: checkKinds,
    checks: cfg,
    recorder: checkRecorder,
    checkDeps: {
      clock,
      log: checksLog,
      exec: execCommand,
      stream: streamCommand,
      paths: { procfs: '/proc', sysfs: '/sys' },
      pool,
      hostIo,
    },
    clock,
    log: checksLog,
  });
  let checks = makeChecks(config.checks);
  /** Reload: a changed `checks:` section restarts the runner; instances that are gone lose their series. */
  const reloadChecks = async (next: Config['checks']): Promise<void> => {
    const before = targets.config().checks;
    if (JSON.stringify(before) === JSON.stringify(next)) return;
    await checks.stop(CHECKS_STOP_MS);
    for (const [kind, list] of Object.entries(before) as [CheckKindName, Config['checks'][CheckKindName]][]) {
      for (const c of list) if (!next[kind].some((n) => n.name === c.name && n.enabled)) checkRecorder.forget(kind, c.name);
    }
    checks = makeChecks(next);
    checks.start();
    log.info('host checks reloaded', { checks: checks.instanceCount });
  };
  let ready = false;
  let server: Server | null = null;

  return {
    catalog,
    targets,
    reload: (trigger) => reloader.reload(trigger),
    async start() {
      catalog.netprobifyInfo.labels({ version: deps.version, scapy_version: 'none' }).set(1);
      catalog.info.labels({ version: deps.version }).set(1);
      catalog.reloadFailed.labels({ probe_name: probeName }).set(0);
      catalog.interval.labels({ probe_name: probeName }).set(config.global.interval);
      catalog.reloadLastSuccess.set(clock.wallMs() / 1000);
      for (const result of ['ok', 'failed', 'unchanged']) catalog.reloads.labels({ result }).inc(0);
      catalog.processTimedOut.labels({ probe_name: probeName }).inc(0);
      manager.primeMetrics();
      const http = createHttpApp({
        registry, fast: catalog.fast, ready: () => ready, reload: () => reloader.reload('http'), ...(api ? { api: api.router } : {}),
      });
      server = await listen(http, config.global.prometheus_address, config.global.prometheus_port);
      await manager.init();
      loop.start();
      await reloader.start();
      inventories.start();
      await api?.start();
      checks.start();
      ready = true;
      log.info('probing', {
        targets: manager.targetCount,
        tasks: loop.taskCount,
        checks: checks.instanceCount,
        listen: `${config.global.prometheus_address}:${config.global.prometheus_port}`,
      });
    },
    async stop(drainMs) {
      ready = false;
      reloader.stop();
      await inventories.stop();
      await api?.stop();
      abort.abort();
      loop.stop();
      await Promise.all([engine.close(drainMs), checks.stop(drainMs)]);
      await new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
