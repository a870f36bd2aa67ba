/**
 * The explicit registry of subsystems: the app starts them in this order, after probing has
 * started and before it is ready, and stops them in reverse order. A new subsystem is its own
 * folder exporting a Service (lib/service.ts) plus one entry here.
 */
import { hostname } from 'node:os';
import { createApi } from '../api/index.js';
import { authorize } from '../api/auth.js';
import { checkKinds } from '../checks/index.js';
import { createChecksService } from '../checks/service.js';
import { createFleet } from '../fleet/service.js';
import { createSharedInventory } from '../fleet/inventory-source.js';
import { createInventories } from '../inventory/inventories.js';
import { createCheckMetrics } from '../metrics/check-metrics.js';
import type { SubsystemFactory } from './types.js';

export const subsystems: readonly SubsystemFactory[] = [
  (ctx) => createInventories({
    sources: ctx.targets, clock: ctx.clock, log: ctx.log.child('inventory'), registry: ctx.registry, exec: ctx.exec, version: ctx.version,
    ...(ctx.config.fleet?.enabled === true
      ? { shared: createSharedInventory({ config: ctx.config.fleet, member: ctx.config.global.probe_name, clock: ctx.clock, log: ctx.log.child('fleet') }) }
      : {}),
  }),
  // before the API: its /api/v1 router answers 404 to paths it does not know, /api/v1/fleet included.
  // `operate` scope: mapped to `write` until the API has it
  (ctx) => (ctx.config.fleet?.enabled === true
    ? createFleet({
      config: ctx.config, clock: ctx.clock, log: ctx.log.child('fleet'), registry: ctx.registry, version: ctx.version, hostname: hostname(), operations: ctx.operations,
      checks: { kinds: checkKinds, deps: { clock: ctx.clock, log: ctx.log.child('fleet'), exec: ctx.exec, stream: ctx.stream, paths: ctx.paths, pool: ctx.pool, hostIo: ctx.hostIo } },
      authorize: (header, need) => authorize(header, ctx.targets.config().api?.tokens ?? [], need === 'operate' ? 'write' : 'read'),
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
];
