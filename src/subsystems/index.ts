/**
 * The explicit registry of subsystems: the app starts them in this order, after probing has
 * started and before it is ready, and stops them in reverse order. A new subsystem is its own
 * folder exporting a Service (lib/service.ts) plus one entry here.
 *
 * Each entry imports its modules when its config section enables it (`import()`), so a config
 * without an API, a fleet or a flow collector never loads express routers, swagger-ui, the NATS
 * client or the flow stores (the process's memory floor, issue 14).
 *
 * Routers are mounted in this order too, and the target API's /api/v1 router answers 404 to every
 * path it does not serve: a subsystem serving under /api/v1 comes before it.
 */
import { hostname } from 'node:os';
import type { Subsystem, SubsystemContext, SubsystemFactory } from './types.js';

/** The flow collector, its stores, and GET /api/v1/flows when the API is enabled. */
async function flowCollector(ctx: SubsystemContext): Promise<Subsystem | null> {
  const flows = ctx.config.flows;
  if (flows?.enabled !== true) return null;
  const [{ createFlowsService }, { createFlowStores }] = await Promise.all([import('../flows/service.js'), import('../flows/stores.js')]);
  const log = ctx.log.child('flows');
  const stores = createFlowStores(log);
  const service = createFlowsService({
    config: flows, clock: ctx.clock, log, registry: ctx.registry, paths: ctx.paths, sinks: (c) => stores.open(c), pool: ctx.pool,
  });
  const api = ctx.config.api;
  if (api?.enabled !== true) return service;
  const [{ default: express }, { flowsRouter }, { API_PREFIX }] = await Promise.all([import('express'), import('../api/flows-routes.js'), import('../api/routes.js')]);
  const router = express.Router();
  router.use(API_PREFIX, flowsRouter({ store: stores.queryable, settings: () => ctx.targets.config().api ?? api, log, wallMs: () => ctx.clock.wallMs() }));
  return { ...service, router };
}

export const subsystems: readonly SubsystemFactory[] = [
  async (ctx) => {
    const { createInventories } = await import('../inventory/inventories.js');
    const fleet = ctx.config.fleet;
    const shared = fleet?.enabled === true
      ? (await import('../fleet/inventory-source.js')).createSharedInventory({ config: fleet, member: ctx.config.global.probe_name, clock: ctx.clock, log: ctx.log.child('fleet') })
      : undefined;
    return createInventories({
      sources: ctx.targets, clock: ctx.clock, log: ctx.log.child('inventory'), registry: ctx.registry, exec: ctx.exec, version: ctx.version,
      ...(shared === undefined ? {} : { shared }),
    });
  },
  async (ctx) => {
    if (ctx.config.api?.enabled !== true || ctx.config.operations === undefined) return null;
    const { createOperationsService } = await import('../api/operations-service.js');
    return createOperationsService({
      runner: ctx.operations, config: ctx.config.operations, apiConfig: ctx.config.api, clock: ctx.clock, log: ctx.log.child('operations'), registry: ctx.registry,
    });
  },
  async (ctx) => {
    if (ctx.config.fleet?.enabled !== true) return null;
    const [{ createFleet }, { checkKinds }, { authorize }] = await Promise.all([import('../fleet/service.js'), import('../checks/index.js'), import('../api/auth.js')]);
    return createFleet({
      config: ctx.config, clock: ctx.clock, log: ctx.log.child('fleet'), registry: ctx.registry, version: ctx.version, hostname: hostname(), operations: ctx.operations,
      checks: { kinds: checkKinds, deps: { clock: ctx.clock, log: ctx.log.child('fleet'), exec: ctx.exec, stream: ctx.stream, paths: ctx.paths, pool: ctx.pool, hostIo: ctx.hostIo } },
      authorize: (header, need) => authorize(header, ctx.targets.config().api?.tokens ?? [], need),
    });
  },
  flowCollector,
  async (ctx) => {
    if (ctx.config.api?.enabled !== true) return null;
    const { createApi } = await import('../api/index.js');
    return createApi({ sources: ctx.targets, config: ctx.config.api, clock: ctx.clock, log: ctx.log.child('api'), registry: ctx.registry });
  },
  async (ctx) => {
    const [{ checkKinds }, { createChecksService }, { createCheckMetrics }] = await Promise.all([
      import('../checks/index.js'), import('../checks/service.js'), import('../metrics/check-metrics.js'),
    ]);
    return createChecksService({
      kinds: checkKinds,
      checks: ctx.config.checks,
      recorder: createCheckMetrics(ctx.registry, Object.values(checkKinds)),
      checkDeps: { clock: ctx.clock, log: ctx.log.child('checks'), exec: ctx.exec, stream: ctx.stream, paths: ctx.paths, pool: ctx.pool, hostIo: ctx.hostIo },
      clock: ctx.clock,
      log: ctx.log,
    });
  },
];
