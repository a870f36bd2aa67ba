/**
 * The host checks as a service: one runner for the running `checks:` section. A reload that
 * changes the section stops the runner (bounded), removes the series of the instances that are
 * gone and starts a new runner; an unchanged section leaves the runner alone. The lifecycle
 * (lib/service.ts) calls reload only between start and stop.
 */
import type { CheckInstanceConfig, Config } from '../config/types.js';
import type { LogFields } from '../lib/logger.js';
import type { ReloadOutcome, Service } from '../lib/service.js';
import type { StatusSection } from '../lib/status-section.js';
import { createCheckRunner, type CheckRunner, type RunnerDeps } from './runner.js';
import type { CheckKindName } from './types.js';

/** What the service needs: the runner's own dependencies (it makes a new runner on a changed section). */
export type ChecksServiceDeps = RunnerDeps;

export interface ChecksService extends Service<Config> {
  start(): void;
  stop(drainMs: number): Promise<void>;
  reload(next: Config): Promise<ReloadOutcome>;
  /** the enabled instances of the running section, for the start log line */
  summary(): LogFields;
  /** the host checks' last results, for the status page */
  statusSection(): StatusSection;
}

/** The host checks table of the status page. */
export function checksSection(results: ReturnType<CheckRunner['results']>): StatusSection {
  return {
    title: 'Host checks',
    columns: ['kind', 'name', 'result', 'reason', 'message', 'last run', 'duration'],
    rows: results.map((r) => ({
      cells: [
        r.kind, r.name, r.ok === null ? 'not run yet' : r.ok ? 'ok' : 'failed', r.reason ?? '', r.message,
        r.lastWallMs === 0 ? '' : new Date(r.lastWallMs).toISOString(), r.lastWallMs === 0 ? '' : `${r.durationMs.toFixed(0)} ms`,
      ],
      state: r.ok === null ? 'none' : r.ok ? 'ok' : 'bad',
    })),
  };
}

/** how long a reload waits for running host checks to stop */
const RELOAD_STOP_MS = 2000;

export function createChecksService(deps: ChecksServiceDeps): ChecksService {
  const make = (checks: Config['checks']): CheckRunner =>
    createCheckRunner({ kinds: deps.kinds, checks, recorder: deps.recorder, checkDeps: deps.checkDeps, clock: deps.clock, log: deps.checkDeps.log });
  let current = deps.checks;
  let runner = make(current);

  return {
    name: 'checks',
    summary: () => ({ checks: runner.instanceCount }),
    statusSection: () => checksSection(runner.results()),
    start() {
      runner.start();
    },
    stop(drainMs) {
      return runner.stop(drainMs);
    },
    async reload(next) {
      if (JSON.stringify(current) === JSON.stringify(next.checks)) return 'unchanged';
      const before = current;
      current = next.checks;
      await runner.stop(RELOAD_STOP_MS);
      for (const [kind, list] of Object.entries(before) as [CheckKindName, readonly CheckInstanceConfig[]][]) {
        for (const c of list) if (!next.checks[kind].some((n) => n.name === c.name && n.enabled)) deps.recorder.forget(kind, c.name);
      }
      runner = make(next.checks);
      runner.start();
      deps.log.info('host checks reloaded', { checks: runner.instanceCount });
      return 'applied';
    },
  };
}
