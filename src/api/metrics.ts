/**
 * Metrics of the REST target API. Label values are bounded: methods from a fixed list, routes
 * as templates (never raw paths), status codes, target statuses.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type TargetStatus = 'active' | 'invalid';

export interface ApiMetrics {
  readonly requests: Counter<'method' | 'route' | 'code'>;
  readonly targets: Gauge<'status'>;
  readonly expired: Counter;
  readonly stateLoadErrors: Counter;
  readonly stateWriteErrors: Counter;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A request method as a label value: one of METHODS or OTHER. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  const metrics: ApiMetrics = {
    requests: new Counter({
      name: 'wireprobe_api_requests_total',
      help: 'Requests answered by the REST target API, by method, route template and status code.',
      labelNames: ['method', 'route', 'code'],
      registers,
    }),
    targets: new Gauge({
      name: 'wireprobe_api_targets',
      help: 'Targets created through the API: active (handed to the prober) or invalid (kept, not probed: they fail the running config).',
      labelNames: ['status'],
      registers,
    }),
    expired: new Counter({
      name: 'wireprobe_api_expired_targets_total',
      help: 'API targets removed because their lifetime ended.',
      registers,
    }),
    stateLoadErrors: new Counter({
      name: 'wireprobe_api_state_load_errors_total',
      help: 'State files found unreadable or corrupt at start and renamed to <file>.corrupt-<timestamp>.',
      registers,
    }),
    stateWriteErrors: new Counter({
      name: 'wireprobe_api_state_write_errors_total',
      help: 'Failed writes of the API state file.',
      registers,
    }),
  };
  for (const status of ['active', 'invalid'] as const) metrics.targets.labels({ status }).set(0);
  metrics.expired.inc(0);
  metrics.stateLoadErrors.inc(0);
  metrics.stateWriteErrors.inc(0);
  return metrics;
}
