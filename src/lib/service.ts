/**
 * The service lifecycle. Every subsystem of the app (HTTP, engine, probing, host checks,
 * inventories, API, …) is a `Service`; the app is an ordered list of them run by a `Lifecycle`:
 * - start: in list order; when one fails (or does not start in time) the ones already started
 *   are stopped in reverse order and a SVC_ERR_START error naming the service is thrown;
 * - stop: in reverse order, each given `drainMs` and bounded at `drainMs + stopGraceMs` (a
 *   service that hangs is logged and left behind, the others still stop);
 * - reload: the new config is handed to every service, in list order, once start is done.
 */
import type { Clock, TimerHandle } from './clock.js';
import { AppError, ErrorCodes, errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/** What a service did with a new config. */
export type ReloadOutcome = 'applied' | 'unchanged';

/** A part of the app with a lifetime. Every method is optional: a service implements what it needs. */
export interface Service<C> {
  /** for logs and errors */
  readonly name: string;
  /** acquires what the service needs and starts its work; a rejection aborts the app's start */
  start?(): Promise<void> | void;
  /** stops its work, waits for work under way at most `drainMs`, releases everything */
  stop?(drainMs: number): Promise<void> | void;
  /** takes a new config (already validated) */
  reload?(next: C): Promise<ReloadOutcome> | ReloadOutcome;
}

export interface LifecycleOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** a service's start is abandoned (and the start fails) after this */
  readonly startTimeoutMs: number;
  /** a service's stop is abandoned after its drain plus this */
  readonly stopGraceMs: number;
}

export interface Lifecycle<C> {
  /** starts every service in order; resolves early (without error) when stop() is called meanwhile */
  start(): Promise<void>;
  /** stops the started services in reverse order; idempotent */
  stop(drainMs: number): Promise<void>;
  /** hands `next` to every service in order (after start); each service's outcome by name */
  reload(next: C): Promise<Readonly<Record<string, ReloadOutcome>>>;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const TIMED_OUT = Symbol('timed out');

/** `p`, or TIMED_OUT after `ms` on the injected clock. */
async function bounded<T>(clock: Clock, ms: number, p: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: TimerHandle | null = null;
  const bound = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = clock.setTimer(ms, () => resolve(TIMED_OUT));
  });
  try {
    return await Promise.race([p, bound]);
  } finally {
    (timer as TimerHandle | null)?.cancel();
  }
}

export function createLifecycle<C>(services: readonly Service<C>[], opts: LifecycleOptions): Lifecycle<C> {
  const { clock, log } = opts;
  const started: Service<C>[] = [];
  let state: State = 'new';
  let starting: Promise<void> | null = null;
  let stopping: Promise<void> | null = null;
  let reloading: Promise<unknown> = Promise.resolve();

  const stopOne = async (s: Service<C>, drainMs: number): Promise<void> => {
    const boundMs = drainMs + opts.stopGraceMs;
    try {
      const r = await bounded(clock, boundMs, Promise.resolve().then(() => s.stop?.(drainMs)));
      if (r === TIMED_OUT) log.warn('service did not stop in time; going on', { service: s.name, boundMs });
    } catch (e) {
      log.error('service failed to stop', { service: s.name, err: errorMessage(e) });
    }
  };

  const stopStarted = async (drainMs: number): Promise<void> => {
    for (let s = started.pop(); s !== undefined; s = started.pop()) await stopOne(s, drainMs);
  };

  const startAll = async (): Promise<void> => {
    for (const s of services) {
      if (state !== 'starting') return;
      let r: unknown;
      try {
        r = await bounded(clock, opts.startTimeoutMs, Promise.resolve().then(() => s.start?.()));
      } catch (e) {
        state = 'failed';
        log.error('service failed to start; stopping the others', { service: s.name, err: errorMessage(e) });
        await stopStarted(0);
        throw new AppError(ErrorCodes.SVC_ERR_START, `${s.name}: ${errorMessage(e)}`, { cause: e });
      }
      if (r === TIMED_OUT) {
        state = 'failed';
        log.error('service did not start in time; stopping it and the others', { service: s.name, boundMs: opts.startTimeoutMs });
        started.push(s);
        await stopStarted(0);
        throw new AppError(ErrorCodes.SVC_ERR_START, `${s.name}: did not start within ${opts.startTimeoutMs} ms`);
      }
      started.push(s);
    }
    if (state === 'starting') state = 'running';
  };

  const reloadAll = async (next: C): Promise<Record<string, ReloadOutcome>> => {
    const outcomes: Record<string, ReloadOutcome> = {};
    const failed: string[] = [];
    for (const s of services) {
      if (s.reload === undefined) continue;
      try {
        outcomes[s.name] = await s.reload(next);
        log.debug('service reloaded', { service: s.name, outcome: outcomes[s.name] });
      } catch (e) {
        failed.push(s.name);
        log.error('service failed to reload', { service: s.name, err: errorMessage(e) });
      }
    }
    if (failed.length > 0) throw new AppError(ErrorCodes.SVC_ERR_RELOAD, `reload failed in: ${failed.join(', ')}`);
    return outcomes;
  };

  return {
    start() {
      if (state !== 'new') return Promise.reject(new AppError(ErrorCodes.SVC_ERR_STATE, `cannot start: the app is ${state}`));
      state = 'starting';
      starting = startAll();
      return starting;
    },
    stop(drainMs) {
      stopping ??= (async () => {
        const was = state;
        state = 'stopping';
        if (was === 'starting') await starting?.catch(() => undefined);
        // a reload under way finishes first (bounded), so that it cannot restart what was stopped
        await bounded(clock, drainMs + opts.stopGraceMs, reloading);
        await stopStarted(drainMs);
        state = 'stopped';
      })();
      return stopping;
    },
    async reload(next) {
      if (state === 'starting') await starting?.catch(() => undefined);
      if (state !== 'running') throw new AppError(ErrorCodes.SVC_ERR_STATE, `cannot reload: the app is ${state}`);
      const run = reloading.then(() => reloadAll(next));
      reloading = run.catch(() => undefined);
      return run;
    },
  };
}
