/**
 * The explicit registry of subsystems: the app starts them in this order, after probing has
 * started and before it is ready, and stops them in reverse order. A new subsystem is its own
 * folder exporting a Service (lib/service.ts) plus one entry here.
 */
import { createApi } from '../api/index.js';
import { createOperationsService } from '../api/operations-service.js';
import { checkKinds } from '../checks/index.js';
import { createChecksService } from '../checks/service.js';
import { createFlowsService } from '../flows/service.js';
import { createInventories } from '../inventory/inventories.js';
import { createCheckMetrics } from '../metrics/check-metrics.js';
import type { SubsystemFactory } from './types.js';

export const subsystems: readonly SubsystemFactory[] = [
  (ctx) => createInventories({
    sources: ctx.targets, clock: ctx.clock, log: ctx.log.child('inventory'), registry: ctx.registry, exec: ctx.exec, version: ctx.version,
  }),
  // before the target API: its /api/v1 router answers 404 to every path it does not serve
  (ctx) => (ctx.config.api?.enabled === true && ctx.config.operations !== undefined
    ? createOperationsService({
      runner: ctx.operations, config: ctx.config.operations, apiConfig: ctx.config.api, clock: ctx.clock, log: ctx.log.child('operations'), registry: ctx.registry,
    })
    : null),
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
  // the flow stores (SQLite, PostgreSQL) plug in through `sinks`
  (ctx) => (ctx.config.flows?.enabled === true
    ? createFlowsService({ config: ctx.config.flows, clock: ctx.clock, log: ctx.log.child('flows'), registry: ctx.registry, paths: ctx.paths, sinks: () => [] })
    : null),
];
