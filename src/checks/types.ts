/**
 * The host-check contract. A check kind (routes, conntrack, dhcp, processes) is one file that
 * exports a `CheckKind`; `checks/index.ts` is the explicit registry. Checks return plain data
 * (`CheckResult`); the runner (checks/runner.ts) owns scheduling, timeouts, the envelope
 * metrics and the conversion of samples into series. Checks never touch prom-client.
 */
import type { CheckKindName } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { ExecFn, StreamFn } from '../lib/exec.js';
import type { Logger } from '../lib/logger.js';
import type { HostPacketIo } from '../net/types.js';
import type { FlowPartial } from './conntrack-flows.js';

/** Kinds, as they appear under `checks:` in the config and in the `check` label (defined in config/types). */
export type { CheckKindName };

/** One metric family a check kind may return samples for. */
export interface MetricSpec {
  /** full name, `wireprobe_<kind>_…`, base units, `_total` for counters */
  readonly name: string;
  readonly help: string;
  /** counters carry values the kernel counts (monotonic); gauges everything else */
  readonly type: 'gauge' | 'counter';
  /** label names besides `name` (the check instance), which the runner adds to every sample */
  readonly labelNames: readonly string[];
}

export interface Sample {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * What one run found. `ok` is false when an expectation failed or the check could not run.
 * `reason` is a short, bounded token (e.g. `route_missing`, `permission_denied`,
 * `conntrack_unavailable`) exported as a label: never free text. `message` is for the log and
 * for actions. Samples replace, exactly, the samples of the previous run of the same instance.
 */
export interface CheckResult {
  readonly ok: boolean;
  readonly reason?: string;
  readonly message?: string;
  readonly samples: readonly Sample[];
}

/**
 * The part of the worker pool (workers/pool.ts, whose WorkerPool satisfies it) that checks use:
 * batches of `conntrack -L` lines parsed off the main thread. Declared here because workers/
 * sits above checks/ (its worker entry runs the checks' parsers), see .dependency-cruiser.cjs.
 */
export interface FlowPool {
  run(name: 'conntrackFlows', input: { chunk: Uint8Array }): Promise<FlowPartial>;
  /** threads of the pool, which bounds the batches worth keeping in flight */
  readonly threads: number;
}

/** Injected dependencies of all checks (tests pass fakes or real ones pointed at namespaces). */
export interface CheckDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** bounded command execution (`ip -json`, `conntrack -S`, …) */
  readonly exec: ExecFn;
  /** bounded command execution streaming stdout (`conntrack -L` with a million entries) */
  readonly stream: StreamFn;
  /** filesystem roots, so tests can point checks at fixtures */
  readonly paths: { readonly procfs: string; readonly sysfs: string };
  /** the piscina pool, for parsing large inputs off the main thread */
  readonly pool: FlowPool;
  /** link-level packet I/O on host interfaces (main thread only) */
  readonly hostIo: HostPacketIo;
}

export interface CheckContext {
  /** aborted at the instance's timeout or on shutdown; every await must honour it */
  readonly signal: AbortSignal;
}

export interface CheckInstance {
  run(ctx: CheckContext): Promise<CheckResult>;
  /** releases what the instance holds (sockets, captures); bounded */
  close?(): Promise<void>;
}

/**
 * A check kind. `O` is the instance's options as validated and defaulted by the config schema
 * (`#/$defs/check_<kind>`), including the common keys (name, interval, timeout, …); a unit test
 * keeps its keys equal to the schema's.
 */
export interface CheckKind<O = unknown> {
  readonly kind: CheckKindName;
  readonly metrics: readonly MetricSpec[];
  create(options: O, deps: CheckDeps): CheckInstance;
}
