/**
 * The REST target API: createApi(deps) → { router, start, stop }. Mount `router` at the root
 * of the HTTP app; it serves /api/v1/* and /api/ui/. API targets reach the prober through
 * `sources.replace('api', …)`; they are re-checked after each reload (sources.onConfig), when
 * the new `api:` settings (tokens, limits, lifetimes, default groups) also take effect.
 */
import express, { type Router } from 'express';
import type { Registry } from 'prom-client';
import type { ApiConfig, Config } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import { ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Service } from '../lib/service.js';
import { documentRoutes, loadOpenApi, swaggerRouter } from './docs.js';
import { ApiHttpError } from './errors.js';
import { createApiMetrics } from './metrics.js';
import { API_PREFIX, v1Router } from './routes.js';
import { ApiTargetStore } from './store.js';
import { toolsRoutes } from './tools.js';
import { createOuiLookup } from '../tools/oui.js';
import { createRateLimiter } from '../tools/rate-limit.js';
import { createRdapClient } from '../tools/rdap.js';
import type { ApiSources } from './types.js';

export interface ApiDeps {
  readonly sources: ApiSources;
  /** `config.api` of the config at start */
  readonly config: ApiConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** the app's registry; the API registers its metrics there (once per registry) */
  readonly registry: Registry;
}

/** A service; it follows config reloads through sources.onConfig. */
export interface Api extends Service<Config> {
  /** serves /api/v1/* and /api/ui/; answers 503 before start() and after stop() */
  readonly router: Router;
  /** loads the state file and hands the API targets to the running set; rejects when the state file can be neither read nor set aside */
  start(): Promise<void>;
  /** stops expiry and reload handling, waits for changes under way */
  stop(): Promise<void>;
}

export function createApi(deps: ApiDeps): Api {
  const { sources, clock, log } = deps;
  let settings = deps.config;
  let state: 'new' | 'running' | 'stopped' = 'new';
  let unsubscribe: (() => void) | null = null;
  const metrics = createApiMetrics(deps.registry);
  const store = new ApiTargetStore({ sources, settings: () => settings, stateFile: deps.config.state_file, clock, log, metrics });
  const openapi = loadOpenApi();

  const onConfig = (config: Config): void => {
    const next = config.api;
    if (next === undefined || next.enabled !== settings.enabled || next.state_file !== settings.state_file) {
      log.warn('api: enabling or disabling the API and changing state_file take effect at the next restart');
    }
    if (next !== undefined) settings = { ...next, enabled: settings.enabled, state_file: settings.state_file };
    void store.revalidate(config);
  };

  const gate = (): ApiHttpError | null =>
    state === 'running'
      ? null
      : new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, state === 'new' ? 'the API is starting' : 'the API is stopped');
  const router = express.Router();
  const tools = {
    tokens: () => settings.tokens,
    settings: () => sources.config().tools,
    oui: createOuiLookup(),
    rdap: createRdapClient(() => clock.wallMs()),
    limiter: createRateLimiter(() => clock.monoMs()),
  };
  const v1 = v1Router({ store, sources, settings: () => settings, log, metrics, gate }, (r) => {
    documentRoutes(r, openapi);
    toolsRoutes(r, tools);
  });
  router.use(API_PREFIX, v1);
  router.use('/api/ui', swaggerRouter(openapi));

  return {
    name: 'api',
    router,
    async start() {
      await store.load();
      unsubscribe = sources.onConfig(onConfig);
      state = 'running';
    },
    async stop() {
      state = 'stopped';
      unsubscribe?.();
      unsubscribe = null;
      await store.stop();
    },
  };
}
