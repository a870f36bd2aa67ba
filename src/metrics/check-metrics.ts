/**
 * Host-check metrics: the envelope every check instance gets (success, duration, last run,
 * runs, current failure reason, actions) and one family per MetricSpec of every check kind,
 * exported from the samples of each instance's last run (a series the last run did not return
 * is gone). Implements the runner's CheckRecorder.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CheckRecorder, RunRecord } from '../checks/recorder.js';
import type { CheckKindName, MetricSpec, Sample } from '../checks/types.js';

export interface KindMetrics {
  readonly kind: CheckKindName;
  readonly metrics: readonly MetricSpec[];
}

const CL = ['check', 'name'] as const;

function envelope(registry: Registry) {
  const registers = [registry];
  return {
    success: new Gauge({ name: 'wireprobe_check_success', help: 'Whether the last run of the host check succeeded (1) or failed (0)', labelNames: CL, registers }),
    duration: new Gauge({ name: 'wireprobe_check_duration_seconds', help: 'Duration of the last run of the host check', labelNames: CL, registers }),
    lastRun: new Gauge({
      name: 'wireprobe_check_last_run_timestamp_seconds',
      help: 'Unix time the last run of the host check ended',
      labelNames: CL,
      registers,
    }),
    runs: new Counter({
      name: 'wireprobe_check_runs_total',
      help: 'Runs of the host check by result: ok, failed, or skipped (due while the previous run was still going)',
      labelNames: [...CL, 'result'],
      registers,
    }),
    reason: new Gauge({
      name: 'wireprobe_check_failure_reason',
      help: 'Why the host check fails: 1 for the current reason; no series while it succeeds',
      labelNames: [...CL, 'reason'],
      registers,
    }),
    actions: new Counter({
      name: 'wireprobe_check_actions_total',
      help: 'on_failure commands run for the host check by result: ok, failed (exit status not 0, or not started), timeout',
      labelNames: [...CL, 'result'],
      registers,
    }),
  };
}

/** name → samples of the last run, per kind */
type Store = Map<CheckKindName, Map<string, readonly Sample[]>>;

function registerKindFamily(registry: Registry, kind: CheckKindName, spec: MetricSpec, store: Store): void {
  const labelNames = ['name', ...spec.labelNames];
  const each = (fn: (labels: Record<string, string>, value: number) => void): void => {
    for (const [name, samples] of store.get(kind) ?? []) {
      for (const s of samples) if (s.metric === spec.name) fn({ ...s.labels, name }, s.value);
    }
  };
  const common = { name: spec.name, help: spec.help, labelNames, registers: [registry] };
  if (spec.type === 'counter') {
    new Counter({
      ...common,
      collect() {
        this.reset();
        each((labels, value) => this.inc(labels, value));
      },
    });
  } else {
    new Gauge({
      ...common,
      collect() {
        this.reset();
        each((labels, value) => this.set(labels, value));
      },
    });
  }
}

export function createCheckMetrics(registry: Registry, kinds: readonly KindMetrics[]): CheckRecorder {
  const m = envelope(registry);
  const store: Store = new Map();
  const reasons = new Map<string, string>();
  for (const k of kinds) {
    store.set(k.kind, new Map());
    for (const spec of k.metrics) registerKindFamily(registry, k.kind, spec, store);
  }
  return {
    prime(check, name) {
      for (const result of ['ok', 'failed', 'skipped']) m.runs.labels({ check, name, result }).inc(0);
    },
    run(check, name, r: RunRecord) {
      const labels = { check, name };
      m.success.labels(labels).set(r.ok ? 1 : 0);
      m.duration.labels(labels).set(r.durationS);
      m.lastRun.labels(labels).set(r.endWallS);
      m.runs.labels({ ...labels, result: r.ok ? 'ok' : 'failed' }).inc();
      const key = `${check}\u0000${name}`;
      const previous = reasons.get(key);
      if (previous !== undefined && previous !== r.reason) m.reason.remove({ ...labels, reason: previous });
      if (r.reason === null) reasons.delete(key);
      else {
        reasons.set(key, r.reason);
        m.reason.labels({ ...labels, reason: r.reason }).set(1);
      }
      store.get(check)?.set(name, r.samples);
    },
    skipped(check, name) {
      m.runs.labels({ check, name, result: 'skipped' }).inc();
    },
    action(check, name, result) {
      m.actions.labels({ check, name, result }).inc();
    },
    forget(check, name) {
      const labels = { check, name };
      for (const g of [m.success, m.duration, m.lastRun]) g.remove(labels);
      for (const result of ['ok', 'failed', 'skipped']) m.runs.remove({ ...labels, result });
      for (const result of ['ok', 'failed', 'timeout']) m.actions.remove({ ...labels, result });
      const key = `${check}\u0000${name}`;
      const previous = reasons.get(key);
      if (previous !== undefined) m.reason.remove({ ...labels, reason: previous });
      reasons.delete(key);
      store.get(check)?.delete(name);
    },
  };
}
