/**
 * The bookkeeping of on-demand operations, independent of HTTP (the API and the fleet share
 * it): admission (spec, packet and duration budgets, source address, concurrency, per-principal
 * rate, destination policy on the resolved address), the run through an OperationRunner with
 * an abort signal and a deadline, the events kept for replay and fanned out to subscribers,
 * and the retention of finished operations (bounded in time and count).
 *
 * The runner is given the checked address as `destination`, never the name: a name is resolved
 * once, here, so that what is probed is what was checked.
 */
import type { EntryProblem } from '../config/entries.js';
import type { OperationsConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { AppError, ErrorCodes, errorMessage, isAppError, type ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ipFamily } from '../lib/address.js';
import { createPolicy, normalizeAddress, type DestinationPolicy } from './policy.js';
import { RateBuckets } from './rate.js';
import { createSpecValidator, leastDuration, packetBudget } from './spec.js';
import type { OperationEvent, OperationKind, OperationResult, OperationRunner, OperationSpec } from './types.js';

export type OperationState = 'running' | 'done' | 'failed' | 'cancelled';

/** Why a start was refused (the label of wireprobe_operations_refused_total). */
export type RefusalReason = 'auth' | 'disabled' | 'invalid' | 'packets' | 'duration' | 'source' | 'busy' | 'rate' | 'resolve' | 'denied';

/** Every reason; `auth` (no token, a bad one, or one without the operate scope) is counted by the caller that checks tokens. */
export const REFUSAL_REASONS: readonly RefusalReason[] = ['auth', 'disabled', 'invalid', 'packets', 'duration', 'source', 'busy', 'rate', 'resolve', 'denied'];
export const FINAL_STATES: readonly Exclude<OperationState, 'running'>[] = ['done', 'failed', 'cancelled'];

/** Events kept per operation for replay; later ones still go to live subscribers. */
export const MAX_KEPT_EVENTS = 20_000;
/** A runner that has not ended an operation this long after its abort is given up on: the operation ends failed. */
export const ABORT_GRACE_MS = 5_000;

export class OperationRefused extends AppError {
  readonly reason: RefusalReason;
  /** seconds after which a retry may succeed (busy, rate) */
  readonly retryAfterS: number | undefined;
  readonly details: readonly EntryProblem[] | undefined;
  constructor(reason: RefusalReason, code: ErrorCode, message: string, extra: { retryAfterS?: number; details?: readonly EntryProblem[] } = {}) {
    super(code, message);
    this.reason = reason;
    this.retryAfterS = extra.retryAfterS;
    this.details = extra.details;
  }
}

/** Who starts an operation: `principal` is rate-limited and logged (a token's source, never a token), `origin` says through what (api, fleet:<node>). */
export interface Starter {
  readonly principal: string;
  readonly origin: string;
  /** the client's address, for the log */
  readonly client?: string;
}

export interface OperationSummary {
  readonly id: string;
  readonly kind: OperationKind;
  readonly destination: string;
  readonly state: OperationState;
  /** Unix milliseconds */
  readonly startedMs: number;
  readonly endedMs: number | null;
  readonly origin: string;
}

export interface OperationView extends OperationSummary {
  /** as requested, defaults filled (`destination` as written: a name stays a name) */
  readonly spec: OperationSpec;
  /** the address probed */
  readonly address: string;
  readonly events: readonly OperationEvent[];
  /** events not kept beyond MAX_KEPT_EVENTS (they were streamed live) */
  readonly droppedEvents: number;
  readonly result?: OperationResult;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A live subscriber: each event with its sequence number (0-based), then end() once the operation ended. */
export interface OperationListener {
  event(e: OperationEvent, seq: number): void;
  end(): void;
}

export interface OperationsRecorder {
  started(kind: OperationKind): void;
  refused(reason: RefusalReason): void;
  finished(kind: OperationKind, state: Exclude<OperationState, 'running'>): void;
  running(count: number): void;
}

export interface RegistryDeps {
  readonly runner: OperationRunner;
  /** read at every use: a reload takes effect at once */
  readonly settings: () => OperationsConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly recorder: OperationsRecorder;
  /** a name to one address (bounded), family 4 or 6; rejects when it does not resolve */
  readonly resolve: (name: string, family: 4 | 6) => Promise<string>;
  /** the host's own addresses (a `source` must be one) */
  readonly localAddresses: () => readonly string[];
  readonly newId: () => string;
}

interface Entry {
  readonly id: string;
  readonly spec: OperationSpec;
  readonly address: string;
  readonly origin: string;
  readonly principal: string;
  readonly startedMs: number;
  readonly abort: AbortController;
  state: OperationState;
  endedMs: number | null;
  abortedBy: 'cancel' | 'deadline' | 'stop' | null;
  readonly events: OperationEvent[];
  seq: number;
  result?: OperationResult;
  error?: { code: string; message: string };
  readonly listeners: Set<OperationListener>;
  deadline: TimerHandle | null;
  /** armed at abort: ends the operation if the runner does not */
  grace: TimerHandle | null;
  expiry: TimerHandle | null;
  /** resolved by #settle */
  readonly ended: Promise<void>;
  readonly markEnded: () => void;
}

const summaryOf = (e: Entry): OperationSummary => ({
  id: e.id, kind: e.spec.kind, destination: e.spec.destination, state: e.state, startedMs: e.startedMs, endedMs: e.endedMs, origin: e.origin,
});

const viewOf = (e: Entry): OperationView => ({
  ...summaryOf(e),
  spec: e.spec,
  address: e.address,
  events: [...e.events],
  droppedEvents: e.seq - e.events.length,
  ...(e.result === undefined ? {} : { result: e.result }),
  ...(e.error === undefined ? {} : { error: e.error }),
});

export class OperationsRegistry {
  readonly #d: RegistryDeps;
  readonly #validate = createSpecValidator();
  readonly #rate: RateBuckets;
  readonly #entries = new Map<string, Entry>();
  /** finished ids in the order they ended */
  readonly #finished = new Set<string>();
  #reserved = 0;
  #running = 0;
  #stopped = false;
  #policy: { from: OperationsConfig; policy: DestinationPolicy } | null = null;

  constructor(deps: RegistryDeps) {
    this.#d = deps;
    this.#rate = new RateBuckets(deps.clock);
    deps.recorder.running(0);
  }

  get running(): number {
    return this.#running;
  }

  /** Checks and starts an operation; rejects with OperationRefused (or AppError SVC_ERR_STATE after stop()). */
  async start(body: unknown, who: Starter): Promise<OperationView> {
    try {
      return await this.#start(body, who);
    } catch (e) {
      if (e instanceof OperationRefused) {
        this.#d.recorder.refused(e.reason);
        const client = who.client === undefined ? {} : { client: who.client };
        this.#d.log.info('operation refused', { reason: e.reason, token: who.principal, origin: who.origin, ...client, err: e.message });
      }
      throw e;
    }
  }

  async #start(body: unknown, who: Starter): Promise<OperationView> {
    if (this.#stopped) throw new AppError(ErrorCodes.SVC_ERR_STATE, 'operations are stopped');
    const s = this.#d.settings();
    if (!s.enabled) throw new OperationRefused('disabled', ErrorCodes.OPS_ERR_DISABLED, 'operations are disabled (operations.enabled: false)');
    const checked = this.#validate(body);
    if (!checked.ok) {
      throw new OperationRefused('invalid', ErrorCodes.OPS_ERR_INVALID, 'the request is not a valid operation', { details: checked.problems });
    }
    const spec = checked.spec;
    this.#checkBudget(spec, s);
    this.#checkSource(spec);
    if (this.#running + this.#reserved >= s.max_concurrent) {
      throw new OperationRefused('busy', ErrorCodes.OPS_ERR_BUSY, `${s.max_concurrent} operations are running (operations.max_concurrent)`, { retryAfterS: 1 });
    }
    const took = this.#rate.take(who.principal, { perMinute: s.rate.per_minute, burst: s.rate.burst });
    if (!took.ok) {
      const message = `this token started ${s.rate.burst} operations recently; the rate is ${s.rate.per_minute} per minute (operations.rate)`;
      throw new OperationRefused('rate', ErrorCodes.OPS_ERR_RATE, message, { retryAfterS: took.retryAfterS });
    }
    this.#reserved++;
    let address: string;
    try {
      address = await this.#address(spec);
    } finally {
      this.#reserved--;
    }
    if (this.#stopped) throw new AppError(ErrorCodes.SVC_ERR_STATE, 'operations are stopped');
    return viewOf(this.#launch(spec, address, who));
  }

  #checkBudget(spec: OperationSpec, s: OperationsConfig): void {
    const packets = packetBudget(spec);
    if (packets > s.max_packets) {
      const message = `the operation would send ${packets} probes; operations.max_packets is ${s.max_packets}`;
      throw new OperationRefused('packets', ErrorCodes.OPS_ERR_BUDGET, message);
    }
    const least = leastDuration(spec);
    if (least !== null && least > s.max_duration) {
      const message = `the operation would run at least ${least} s; operations.max_duration is ${s.max_duration} s`;
      throw new OperationRefused('duration', ErrorCodes.OPS_ERR_BUDGET, message);
    }
  }

  /** A source address must be one of the host's: raw sockets could otherwise send as anyone (reflection). */
  #checkSource(spec: OperationSpec): void {
    if (spec.source === undefined) return;
    const want = normalizeAddress(spec.source)?.toNormalizedString();
    const mine = this.#d.localAddresses().some((a) => normalizeAddress(a)?.toNormalizedString() === want);
    if (!mine) throw new OperationRefused('source', ErrorCodes.OPS_ERR_DENIED, `source ${spec.source} is not an address of this host`);
  }

  /** The address to probe: the literal, or the name resolved once; checked against the policy. */
  async #address(spec: OperationSpec): Promise<string> {
    let text = spec.destination;
    if (ipFamily(text) === null) {
      const family = spec.family ?? (spec.source !== undefined && ipFamily(spec.source) === 'ipv6' ? 6 : 4);
      try {
        text = await this.#d.resolve(spec.destination, family);
      } catch (e) {
        const message = `${spec.destination} does not resolve to an IPv${family} address: ${errorMessage(e)}`;
        throw new OperationRefused('resolve', ErrorCodes.DNS_ERR_RESOLVE, message);
      }
    }
    const verdict = this.#policyOf(this.#d.settings()).check(text);
    if (!verdict.ok) {
      const via = text === spec.destination ? '' : ` (${spec.destination} resolves to ${text})`;
      throw new OperationRefused('denied', ErrorCodes.OPS_ERR_DENIED, `destination refused${via}: ${verdict.reason}`);
    }
    if (spec.source !== undefined && ipFamily(spec.source) !== ipFamily(verdict.address)) {
      const problem = { path: 'source', message: `is ${ipFamily(spec.source)}, the destination resolves to ${verdict.address}` };
      throw new OperationRefused('invalid', ErrorCodes.OPS_ERR_INVALID, 'the request is not a valid operation', { details: [problem] });
    }
    return verdict.address;
  }

  #policyOf(s: OperationsConfig): DestinationPolicy {
    if (this.#policy?.from !== s) this.#policy = { from: s, policy: createPolicy(s.allow, s.deny) };
    return this.#policy.policy;
  }

  #launch(spec: OperationSpec, address: string, who: Starter): Entry {
    const { clock, log, recorder } = this.#d;
    let markEnded = (): void => undefined;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const entry: Entry = {
      id: this.#d.newId(),
      spec,
      address,
      origin: who.origin,
      principal: who.principal,
      startedMs: clock.wallMs(),
      abort: new AbortController(),
      state: 'running',
      endedMs: null,
      abortedBy: null,
      events: [],
      seq: 0,
      listeners: new Set(),
      deadline: null,
      grace: null,
      expiry: null,
      ended,
      markEnded,
    };
    this.#entries.set(entry.id, entry);
    this.#running++;
    recorder.started(spec.kind);
    recorder.running(this.#running);
    log.info('operation started', {
      id: entry.id, kind: spec.kind, destination: spec.destination, address, protocol: spec.protocol, token: who.principal, origin: who.origin,
      ...(who.client === undefined ? {} : { client: who.client }),
    });
    entry.deadline = clock.setTimer(this.#d.settings().max_duration * 1000, () => this.#abort(entry, 'deadline'));
    const family = ipFamily(address) === 'ipv6' ? 6 : 4;
    const run = { ...spec, destination: address, family } as OperationSpec;
    let runner: Promise<OperationResult>;
    try {
      runner = this.#d.runner.run(run, (e) => this.#onEvent(entry, e), entry.abort.signal);
    } catch (e) {
      runner = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    void runner.then(
      (result) => this.#settle(entry, result, undefined),
      (e: unknown) => this.#settle(entry, undefined, e),
    );
    return entry;
  }

  #onEvent(entry: Entry, e: OperationEvent): void {
    if (entry.state !== 'running') return;
    this.#push(entry, e);
  }

  #push(entry: Entry, e: OperationEvent): void {
    const seq = entry.seq++;
    if (entry.events.length < MAX_KEPT_EVENTS) entry.events.push(e);
    for (const l of entry.listeners) l.event(e, seq);
  }

  /** `gaveUp`: the runner did not end after its abort; the operation fails with this error. */
  #settle(entry: Entry, result: OperationResult | undefined, err: unknown, gaveUp?: { code: string; message: string }): void {
    if (entry.state !== 'running') return;
    entry.deadline?.cancel();
    entry.grace?.cancel();
    const { abortedBy } = entry;
    const sawDone = entry.events.some((e) => e.type === 'done');
    const sawError = entry.events.some((e) => e.type === 'error');
    if (result !== undefined) entry.result = result;
    if (gaveUp !== undefined) {
      entry.error = gaveUp;
    } else if (abortedBy === 'deadline') {
      entry.error = { code: ErrorCodes.OP_ERR_TIMEOUT, message: `aborted after operations.max_duration (${this.#d.settings().max_duration} s)` };
    } else if (err !== undefined && abortedBy === null) {
      entry.error = { code: isAppError(err) ? err.code : ErrorCodes.OPS_ERR_RUNNER, message: errorMessage(err) };
    }
    if (entry.result !== undefined && !sawDone) this.#push(entry, { type: 'done', result: entry.result });
    if (entry.error !== undefined && !sawError) this.#push(entry, { type: 'error', ...entry.error });
    if (entry.result === undefined && entry.error === undefined && !sawError) {
      this.#push(entry, { type: 'error', code: ErrorCodes.OPS_ERR_CANCELLED, message: 'cancelled before a result' });
    }
    entry.state = entry.error !== undefined ? 'failed' : abortedBy === 'cancel' || abortedBy === 'stop' ? 'cancelled' : 'done';
    entry.endedMs = this.#d.clock.wallMs();
    this.#running--;
    this.#d.recorder.finished(entry.spec.kind, entry.state);
    this.#d.recorder.running(this.#running);
    this.#d.log.info('operation ended', { id: entry.id, kind: entry.spec.kind, state: entry.state, token: entry.principal, origin: entry.origin });
    for (const l of entry.listeners) l.end();
    entry.listeners.clear();
    entry.markEnded();
    this.#finished.add(entry.id);
    this.#expire(entry);
    this.#sweep();
  }

  #abort(entry: Entry, by: 'cancel' | 'deadline' | 'stop'): void {
    if (entry.state !== 'running' || entry.abortedBy !== null) return;
    entry.abortedBy = by;
    entry.grace = this.#d.clock.setTimer(ABORT_GRACE_MS, () => {
      this.#d.log.error('the runner did not end an aborted operation; giving up on it', { id: entry.id, kind: entry.spec.kind, abortedBy: by });
      const message = `the engine did not end the operation within ${ABORT_GRACE_MS} ms of its abort (${by})`;
      this.#settle(entry, undefined, undefined, { code: ErrorCodes.OP_ERR_TIMEOUT, message });
    });
    entry.abort.abort(new AppError(by === 'deadline' ? ErrorCodes.OP_ERR_TIMEOUT : ErrorCodes.SVC_ERR_STATE, `operation ${by}`));
  }

  /** Forgets finished operations beyond keep_for (a timer per operation, re-armed when keep_for grew) and keep_count (oldest first). */
  #expire(entry: Entry): void {
    const left = (entry.endedMs ?? 0) + this.#d.settings().keep_for * 1000 - this.#d.clock.wallMs();
    entry.expiry = this.#d.clock.setTimer(Math.max(0, left), () => {
      entry.expiry = null;
      this.#sweep();
      if (this.#entries.has(entry.id)) this.#expire(entry);
    });
  }

  #sweep(): void {
    const s = this.#d.settings();
    const now = this.#d.clock.wallMs();
    for (const id of this.#finished) {
      const e = this.#entries.get(id)!;
      if (this.#finished.size <= s.keep_count && (e.endedMs ?? 0) + s.keep_for * 1000 > now) continue;
      e.expiry?.cancel();
      this.#entries.delete(id);
      this.#finished.delete(id);
    }
  }

  list(): OperationSummary[] {
    this.#sweep();
    return [...this.#entries.values()].map(summaryOf);
  }

  get(id: string): OperationView | undefined {
    this.#sweep();
    const e = this.#entries.get(id);
    return e === undefined ? undefined : viewOf(e);
  }

  /**
   * The kept events of an operation and, while it runs, live ones after them: `listener` gets
   * every event from `fromSeq` on, then end(). Returns the unsubscribe function, or undefined
   * when there is no such operation.
   */
  subscribe(id: string, listener: OperationListener, fromSeq = 0): (() => void) | undefined {
    this.#sweep();
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    e.events.forEach((ev, i) => {
      if (i >= fromSeq) listener.event(ev, i);
    });
    if (e.state !== 'running') {
      listener.end();
      return () => undefined;
    }
    e.listeners.add(listener);
    return () => void e.listeners.delete(listener);
  }

  /** Cancels a running operation (it ends with what it gathered); the view, or undefined when there is no such operation. */
  cancel(id: string, who: Starter): OperationView | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    if (e.state === 'running') {
      this.#d.log.info('operation cancel asked', { id, token: who.principal, origin: who.origin });
      this.#abort(e, 'cancel');
    }
    return viewOf(e);
  }

  /** Waits until the operation ended (tests, the CLI); undefined when there is no such operation. */
  settled(id: string): Promise<void> | undefined {
    return this.#entries.get(id)?.ended;
  }

  /** Refuses new operations, aborts the running ones and waits for them to end at most `drainMs`. */
  async stop(drainMs: number): Promise<void> {
    this.#stopped = true;
    const running = [...this.#entries.values()].filter((e) => e.state === 'running');
    for (const e of running) this.#abort(e, 'stop');
    let timer: TimerHandle | null = null;
    const bound = new Promise<void>((resolve) => {
      timer = this.#d.clock.setTimer(drainMs, resolve);
    });
    await Promise.race([Promise.all(running.map((e) => e.ended)), bound]);
    (timer as TimerHandle | null)?.cancel();
    for (const e of this.#entries.values()) e.expiry?.cancel();
  }
}
