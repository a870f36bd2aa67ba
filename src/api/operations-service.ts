/**
 * The operations service: createOperationsService(deps) → a Service with a router serving
 * /api/v1/operations, over an OperationsRegistry (operations/registry.ts) that runs operations
 * through the injected OperationRunner. Its router must be mounted before the target API's
 * (whose /api/v1 router answers 404 to every path it does not know). Tokens and limits follow
 * config reloads; removing the `operations:` section disables new operations.
 */
import { randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import express, { type Router } from 'express';
import type { Registry } from 'prom-client';
import type { ApiConfig, Config, OperationsConfig } from '../config/types.js';
import { createResolver, systemLookup } from '../dns/resolver.js';
import type { Clock } from '../lib/clock.js';
import { ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ReloadOutcome, Service } from '../lib/service.js';
import { OperationsRegistry, type RegistryDeps } from '../operations/registry.js';
import type { OperationRunner } from '../operations/types.js';
import { ApiHttpError } from './errors.js';
import { createOperationsMetrics } from './operations-metrics.js';
import { OPERATIONS_PATH, operationsRouter } from './operations-routes.js';

/** Bound of resolving a destination name. */
export const RESOLVE_TIMEOUT_MS = 3_000;
export const HEARTBEAT_MS = 15_000;

export interface OperationsServiceDeps {
  readonly runner: OperationRunner;
  /** `config.operations` at start */
  readonly config: OperationsConfig;
  /** `config.api` at start (its tokens and body limit) */
  readonly apiConfig: ApiConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** the app's prom-client registry, for wireprobe_operations_* */
  readonly registry: Registry;
  /** defaults: getaddrinfo bounded at RESOLVE_TIMEOUT_MS; the host's interface addresses; random UUIDs; HEARTBEAT_MS */
  readonly resolve?: RegistryDeps['resolve'];
  readonly localAddresses?: RegistryDeps['localAddresses'];
  readonly newId?: () => string;
  readonly heartbeatMs?: number;
}

export interface OperationsService extends Service<Config> {
  /** serves /api/v1/operations; answers 503 before start() and after stop() */
  readonly router: Router;
  /** the bookkeeping, shared with other starters of operations (the fleet) */
  readonly operations: OperationsRegistry;
  start(): void;
  /** closes event streams, aborts running operations and waits for them at most `drainMs` */
  stop(drainMs: number): Promise<void>;
  reload(next: Config): ReloadOutcome;
}

const hostAddresses = (): string[] => Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));

export function createOperationsService(deps: OperationsServiceDeps): OperationsService {
  const { clock, log } = deps;
  let settings = deps.config;
  let api = deps.apiConfig;
  let state: 'new' | 'running' | 'stopped' = 'new';
  const recorder = createOperationsMetrics(deps.registry);
  const operations = new OperationsRegistry({
    runner: deps.runner,
    settings: () => settings,
    clock,
    log,
    recorder,
    resolve: deps.resolve ?? createResolver(systemLookup, RESOLVE_TIMEOUT_MS),
    localAddresses: deps.localAddresses ?? hostAddresses,
    newId: deps.newId ?? randomUUID,
  });
  const streams = new Set<() => void>();
  const gate = (): ApiHttpError | null =>
    state === 'running'
      ? null
      : new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, state === 'new' ? 'operations are starting' : 'operations are stopped');
  const router = express.Router();
  router.use(OPERATIONS_PATH, operationsRouter({ operations, api: () => api, clock, log, recorder, gate, heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS, streams }));

  return {
    name: 'operations',
    router,
    operations,
    start() {
      state = 'running';
    },
    async stop(drainMs) {
      state = 'stopped';
      await operations.stop(drainMs);
      for (const close of [...streams]) close();
    },
    reload(next) {
      const nextSettings = next.operations ?? { ...settings, enabled: false };
      const nextApi = next.api ?? { ...api, tokens: [] };
      const same = JSON.stringify([nextSettings, nextApi.tokens, nextApi.body_limit_bytes]) === JSON.stringify([settings, api.tokens, api.body_limit_bytes]);
      settings = nextSettings;
      api = nextApi;
      return same ? 'unchanged' : 'applied';
    },
  };
}
