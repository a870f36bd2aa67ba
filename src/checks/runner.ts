/**
 * Runs every enabled check instance on its own interval through the injected clock: the first
 * runs are spread over the first seconds, a run still going when the next is due makes that one
 * skipped (never two runs of one instance at once), every run is bounded by the instance's
 * timeout. Results go to the recorder (metrics); failures are logged once per transition, and
 * the `on_failure` actions run when an instance goes from success (or never run) to failure.
 */
import type { CheckInstanceConfig, Config } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { runActions } from './actions.js';
import type { CheckRecorder } from './recorder.js';
import { runOnce, type RunOutcome } from './run-once.js';
import { checkSamples } from './samples.js';
import type { CheckDeps, CheckInstance, CheckKind, CheckKindName, MetricSpec } from './types.js';

export type CheckKinds = Readonly<Partial<Record<CheckKindName, CheckKind<CheckInstanceConfig>>>>;

export interface RunnerDeps {
  readonly kinds: CheckKinds;
  readonly checks: Config['checks'];
  readonly recorder: CheckRecorder;
  /** given to every instance; `log` is the runner's log (instances get a child each) */
  readonly checkDeps: CheckDeps;
  readonly clock: Clock;
  readonly log: Logger;
}

/** An enabled instance and its last run, for the status page. */
export interface CheckStatus {
  readonly kind: CheckKindName;
  readonly name: string;
  /** null before the first run */
  readonly ok: boolean | null;
  readonly reason: string | null;
  readonly message: string;
  /** Unix ms; 0 before the first run */
  readonly lastWallMs: number;
  readonly durationMs: number;
}

export interface CheckRunner {
  /** enabled instances */
  readonly instanceCount: number;
  /** every enabled instance's last run */
  results(): CheckStatus[];
  start(): void;
  /** stops scheduling, aborts running checks and actions, waits for them at most `drainMs` */
  stop(drainMs: number): Promise<void>;
}

/** The first runs are spread over min(interval, this). */
const SPREAD_MAX_MS = 5000;

interface Slot {
  readonly kind: CheckKindName;
  readonly config: CheckInstanceConfig;
  readonly instance: CheckInstance;
  readonly specs: ReadonlyMap<string, MetricSpec>;
  readonly log: Logger;
  nextDue: number;
  timer: TimerHandle | null;
  busy: Promise<void> | null;
  /** null until the first run */
  lastOk: boolean | null;
  lastReason: string | null;
  /** of the last run: Unix ms when it ended, its message and duration (status page) */
  lastWallMs: number;
  lastMessage: string;
  lastDurationMs: number;
  rejectedLogged: boolean;
}

/** An instance whose creation failed: every run fails with the creation error. */
function failingInstance(error: unknown): CheckInstance {
  return { run: () => Promise.reject(error instanceof Error ? error : new Error(String(error))) };
}

function createSlot(kind: CheckKind<CheckInstanceConfig>, config: CheckInstanceConfig, deps: RunnerDeps): Slot {
  const log = deps.log.child(`check.${kind.kind}.${config.name}`);
  let instance: CheckInstance;
  try {
    instance = kind.create(config, { ...deps.checkDeps, log });
  } catch (e) {
    log.error('check could not be created', { err: errorMessage(e) });
    instance = failingInstance(e);
  }
  const specs = new Map(kind.metrics.map((m) => [m.name, m]));
  return { kind: kind.kind, config, instance, specs, log, nextDue: 0, timer: null, busy: null, lastOk: null, lastReason: null, lastWallMs: 0, lastMessage: '', lastDurationMs: 0, rejectedLogged: false };
}

function slotsOf(deps: RunnerDeps): Slot[] {
  const slots: Slot[] = [];
  const disabled: string[] = [];
  for (const [kindName, list] of Object.entries(deps.checks) as [CheckKindName, readonly CheckInstanceConfig[]][]) {
    const kind = deps.kinds[kindName];
    for (const config of list) {
      if (!config.enabled) disabled.push(`${kindName}/${config.name}`);
      else if (kind === undefined) deps.log.error('check kind not available in this build; not run', { check: kindName, name: config.name });
      else slots.push(createSlot(kind, config, deps));
    }
  }
  deps.log.info('host checks', { enabled: slots.length, disabled: disabled.length > 0 ? disabled.join(',') : undefined });
  return slots;
}

/** Waits for `p` until the monotonic `deadline` at the latest. */
async function within(clock: Clock, deadline: number, p: Promise<unknown>): Promise<void> {
  let timer: TimerHandle | null = null;
  const bound = new Promise<void>((resolve) => {
    timer = clock.setTimer(deadline - clock.monoMs(), resolve);
  });
  await Promise.race([p.then(() => undefined), bound]);
  (timer as TimerHandle | null)?.cancel();
}

/** Logs a change of state only: first failure, another reason, recovery. */
function logTransition(slot: Slot, o: RunOutcome): void {
  const fields = { check: slot.kind, name: slot.config.name };
  if (o.ok) {
    if (slot.lastOk === false) slot.log.info('check recovered', fields);
  } else if (slot.lastOk !== false) {
    slot.log.warn('check failed', { ...fields, reason: o.reason, message: o.message });
  } else if (o.reason !== slot.lastReason) {
    slot.log.warn('check failing for another reason', { ...fields, reason: o.reason, was: slot.lastReason, message: o.message });
  }
}

/**
 * The due time after `due`; after a stall (event loop blocked, machine suspended) the missed
 * runs are not caught up: the next one is the first in the future.
 */
export function nextDue(due: number, now: number, intervalMs: number): number {
  const next = due + intervalMs;
  return next > now ? next : next + Math.ceil((now - next + 1) / intervalMs) * intervalMs;
}

export function createCheckRunner(deps: RunnerDeps): CheckRunner {
  const { clock, recorder } = deps;
  const slots = slotsOf(deps);
  const shutdown = new AbortController();
  const actionsRunning = new Set<Promise<void>>();

  const startActions = (slot: Slot, o: RunOutcome): void => {
    if (slot.config.on_failure.length === 0) return;
    const vars = { check: slot.kind, name: slot.config.name, reason: o.reason ?? 'error', message: o.message };
    const p = runActions(slot.config.on_failure, vars, { exec: deps.checkDeps.exec, log: slot.log, signal: shutdown.signal }, (r) =>
      recorder.action(slot.kind, slot.config.name, r),
    )
      .catch((e: unknown) => slot.log.error('failure actions stopped', { err: errorMessage(e) }))
      .finally(() => actionsRunning.delete(p));
    actionsRunning.add(p);
  };

  const record = (slot: Slot, o: RunOutcome): void => {
    const { valid, rejected } = checkSamples(o.samples, slot.specs);
    if (rejected.length > 0 && !slot.rejectedLogged) {
      slot.rejectedLogged = true;
      slot.log.error('check returned samples that do not match its metrics; dropped', { count: rejected.length, first: rejected[0] });
    }
    recorder.run(slot.kind, slot.config.name, {
      ok: o.ok,
      reason: o.ok ? null : o.reason,
      durationS: o.durationMs / 1000,
      endWallS: clock.wallMs() / 1000,
      samples: valid,
    });
    logTransition(slot, o);
    if (!o.ok && slot.lastOk !== false) startActions(slot, o);
    slot.lastOk = o.ok;
    slot.lastReason = o.ok ? null : o.reason;
    slot.lastWallMs = clock.wallMs();
    slot.lastMessage = o.message;
    slot.lastDurationMs = o.durationMs;
  };

  const run = (slot: Slot): void => {
    const handle = runOnce(slot.instance, slot.config.timeout, clock, shutdown.signal);
    slot.busy = handle.settled.finally(() => {
      slot.busy = null;
    });
    void handle.outcome.then((o) => {
      if (!shutdown.signal.aborted) record(slot, o);
    });
  };

  const tick = (slot: Slot): void => {
    if (shutdown.signal.aborted) return;
    const now = clock.monoMs();
    const next = nextDue(slot.nextDue, now, slot.config.interval * 1000);
    slot.nextDue = next;
    slot.timer = clock.setTimer(next - now, () => tick(slot));
    if (slot.busy !== null) {
      recorder.skipped(slot.kind, slot.config.name);
      slot.log.debug('run skipped: the previous run is still going', { check: slot.kind, name: slot.config.name });
      return;
    }
    run(slot);
  };

  return {
    instanceCount: slots.length,
    results: () =>
      slots.map((s) => ({
        kind: s.kind, name: s.config.name, ok: s.lastOk, reason: s.lastReason, message: s.lastMessage, lastWallMs: s.lastWallMs, durationMs: s.lastDurationMs,
      })),
    start() {
      const t0 = clock.monoMs();
      slots.forEach((slot, i) => {
        recorder.prime(slot.kind, slot.config.name);
        const delay = (Math.min(slot.config.interval * 1000, SPREAD_MAX_MS) * i) / slots.length;
        slot.nextDue = t0 + delay;
        slot.timer = clock.setTimer(delay, () => tick(slot));
      });
    },
    async stop(drainMs) {
      shutdown.abort();
      for (const slot of slots) slot.timer?.cancel();
      const deadline = clock.monoMs() + drainMs;
      await within(clock, deadline, Promise.all([...slots.flatMap((s) => (s.busy ? [s.busy] : [])), ...actionsRunning]));
      const closing = slots.map((s) =>
        Promise.resolve()
          .then(() => s.instance.close?.())
          .catch((e: unknown) => s.log.warn('error while closing the check', { err: errorMessage(e) })),
      );
      await within(clock, deadline, Promise.all(closing));
    },
  };
}
