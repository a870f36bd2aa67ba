/**
 * A FAKE OperationRunner for tests of the operations API: it sends no packet and probes nothing.
 * Each run() becomes a FakeRun the test drives by hand (emit events, finish, fail); an abort
 * ends the run as the contract says (resolves with what was "gathered"), or, when asked,
 * rejects or is ignored, to test runners that misbehave.
 */
import type { OperationEvent, OperationResult, OperationRunner, OperationSpec } from '../../src/operations/types.js';

export type AbortBehaviour = 'resolve' | 'reject' | 'ignore';

export class FakeRun {
  readonly spec: OperationSpec;
  readonly signal: AbortSignal;
  readonly promise: Promise<OperationResult>;
  readonly #onEvent: (e: OperationEvent) => void;
  #resolve!: (r: OperationResult) => void;
  #reject!: (e: unknown) => void;
  #sent = 0;
  #received = 0;
  #ended = false;

  constructor(spec: OperationSpec, onEvent: (e: OperationEvent) => void, signal: AbortSignal, onAbort: AbortBehaviour) {
    this.spec = spec;
    this.signal = signal;
    this.#onEvent = onEvent;
    this.promise = new Promise<OperationResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    signal.addEventListener('abort', () => {
      if (onAbort === 'resolve') this.finish(false);
      else if (onAbort === 'reject') this.fail(signal.reason);
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  emit(e: OperationEvent): void {
    this.#onEvent(e);
  }

  /** A `probe` event: answered when rttMs is a number. */
  probe(seq: number, rttMs: number | null): void {
    this.#sent++;
    if (rttMs !== null) this.#received++;
    const from = rttMs === null ? null : this.spec.destination;
    this.emit({ type: 'probe', reply: { seq, from, rttMs, kind: rttMs === null ? 'timeout' : 'reply' } });
  }

  result(reached: boolean): OperationResult {
    return {
      kind: this.spec.kind, destination: this.spec.destination, address: this.spec.destination, reached,
      sent: this.#sent, received: this.#received, paths: [], startedMs: 0, endedMs: 0,
    };
  }

  /** Resolves the run (without a `done` event unless `withEvent`, like a runner that leaves it to the caller). */
  finish(reached: boolean, withEvent = false): void {
    if (this.#ended) return;
    this.#ended = true;
    const r = this.result(reached);
    if (withEvent) this.emit({ type: 'done', result: r });
    this.#resolve(r);
  }

  fail(e: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reject(e);
  }
}

export class FakeOperationRunner implements OperationRunner {
  readonly runs: FakeRun[] = [];
  onAbort: AbortBehaviour = 'resolve';
  /** throws from run() itself, synchronously, when set */
  throwOnRun: Error | null = null;
  readonly #waiters: ((r: FakeRun) => void)[] = [];

  run(spec: OperationSpec, onEvent: (e: OperationEvent) => void, signal: AbortSignal): Promise<OperationResult> {
    if (this.throwOnRun !== null) throw this.throwOnRun;
    const r = new FakeRun(spec, onEvent, signal, this.onAbort);
    this.runs.push(r);
    this.#waiters.shift()?.(r);
    return r.promise;
  }

  /** The run at `index` once it exists. */
  async nth(index: number): Promise<FakeRun> {
    while (this.runs.length <= index) await new Promise<FakeRun>((resolve) => this.#waiters.push(resolve));
    return this.runs[index]!;
  }
}
