/**
 * The explicit registry of subsystems: the app starts them in this order, after probing has
 * started and before it is ready, and stops them in reverse order. A new subsystem is its own
 * folder exporting a Service (lib/service.ts) plus one entry here.
 *
 * Routers are mounted in this order too, and the target API's /api/v1 router answers 404 to every
 * path it does not serve: a subsystem serving under /api/v1 comes before it.
 */
import express from 'express';
import { hostname } from 'node:os';
import { authorize } from '../api/auth.js';
import { flowsRouter } from '../api/flows-routes.js';
import { createApi } from '../api/index.js';
import { createOperationsService } from '../api/operations-service.js';
import { API_PREFIX } from '../api/routes.js';
import { checkKinds } from '../checks/index.js';
import { createChecksService } from '../checks/service.js';
import { createSharedInventory } from '../fleet/inventory-source.js';
import { createFleet } from '../fleet/service.js';
import { createFlowsService } from '../flows/service.js';
import { createFlowStores } from '../flows/stores.js';
import { createInventories } from '../inventory/inventories.js';
import { createCheckMetrics } from '../metrics/check-metrics.js';
import type { Subsystem, SubsystemContext, SubsystemFactory } from './types.js';

/** The flow collector, its stores, and GET /api/v1/flows when the API is enabled. */
function flowCollector(ctx: SubsystemContext): Subsystem | null {
  const flows = ctx.config.flows;
  if (flows?.enabled !== true) return null;
  const log = ctx.log.child('flows');
  const stores = createFlowStores(log);
  const service = createFlowsService({
    config: flows, clock: ctx.clock, log, registry: ctx.registry, paths: ctx.paths, sinks: (c) => stores.open(c), pool: ctx.pool,
  });
  const api = ctx.config.api;
  if (api?.enabled !== true) return service;
  const router = express.Router();
  router.use(API_PREFIX, flowsRouter({ store: stores.queryable, settings: () => ctx.targets.config().api ?? api, log, wallMs: () => ctx.clock.wallMs() }));
  return { ...service, router };
}

export const subsystems: readonly SubsystemFactory[] = [
  (ctx) => createInventories({
    sources: ctx.targets, clock: ctx.clock, log: ctx.log.child('inventory'), registry: ctx.registry, exec: ctx.exec, version: ctx.version,
    ...(ctx.config.fleet?.enabled === true
      ? { shared: createSharedInventory({ config: ctx.config.fleet, member: ctx.config.global.probe_name, clock: ctx.clock, log: ctx.log.child('fleet') }) }
      : {}),
  }),
  (ctx) => (ctx.config.api?.enabled === true && ctx.config.operations !== undefined
    ? createOperationsService({
      runner: ctx.operations, config: ctx.config.operations, apiConfig: ctx.config.api, clock: ctx.clock, log: ctx.log.child('operations'), registry: ctx.registry,
    })
    : null),
  (ctx) => (ctx.config.fleet?.enabled === true
    ? createFleet({
      config: ctx.config, clock: ctx.clock, log: ctx.log.child('fleet'), registry: ctx.registry, version: ctx.version, hostname: hostname(), operations: ctx.operations,
      checks: { kinds: checkKinds, deps: { clock: ctx.clock, log: ctx.log.child('fleet'), exec: ctx.exec, stream: ctx.stream, paths: ctx.paths, pool: ctx.pool, hostIo: ctx.hostIo } },
      authorize: (header, need) => authorize(header, ctx.targets.config().api?.tokens ?? [], need),
    })
    : null),
  flowCollector,
  (ctx) => (ctx.config.api?.enabled === true
    ? createApi({ sources: ctx.targets, config: ctx.config.api, clock: ctx.clock, log: ctx.log.child('api'), registry: ctx.registry })
    : null),
  (ctx) => createChecksService({
    kinds: checkKinds,
    checks: ctx.config.checks,
    recorder: createCheckMetrics(ctx.registry, Object.values(checkKinds)),
    checkDeps: { clock: ctx.clock, log: ctx.log.child('checks'), exec: ctx.exec, stream: ctx.stream, paths: ctx.paths, pool: ctx.pool, hostIo: ctx.hostIo },
    clock: ctx.clock,
    log: ctx.log,
  }),
];
