/**
 * Every metric wireprobe exports: name, help, type and labels, declared once on an explicit
 * registry. The netprobify families keep netprobify's names, labels and label formatting
 * (contract §2); wireprobe's own additions are documented as such.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { FastFamily, FastRegistry } from './fast.js';
import { T3, TH, TP } from './labels.js';
import { TargetFamily, TargetTable } from './target-table.js';
import { columnFamily, histogramFamily, percentileFamily, ratioFamily, TaskTable, TimeOooFamily } from './task-table.js';
import type { ProbeMetricsInput } from '../probes/types.js';

export { T3, T4, T5, T6, TH, TP } from './labels.js';

/** The former default RTT buckets: 10 µs … 10 s in 1-2-5 steps (19 buckets, 22 lines per series). */
export const FINE_RTT_BUCKETS: readonly number[] = (() => {
  const out: number[] = [];
  for (let decade = -5; decade <= 1; decade++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** decade).toPrecision(3));
      if (v <= 10) out.push(v);
    }
  }
  return out;
})();

/**
 * The default RTT buckets (global.rtt_buckets; the schema's default is tested to be this):
 * 100 µs … 3 s in 1-3 steps, 10 buckets, 13 lines per series.
 */
export const DEFAULT_RTT_BUCKETS: readonly number[] = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3];

/** Per-target families of one probe type (hot path: see fast.ts and task-table.ts). */
export interface ProbeTypeMetrics {
  /** the per-(target, group) series: sent, loss, ratio, percentiles, created, RTT histogram, … */
  readonly tasks: TaskTable;
  /** TCP and UDP probes only: the table has an icmp_errors_total family */
  readonly icmpErrors: boolean;
  readonly hostSent: FastFamily<(typeof TP)[number]>;
  readonly hostLoss: FastFamily<(typeof TP)[number]>;
  readonly hostLastRtt: FastFamily<(typeof TP)[number]>;
}

function probeTypeMetrics(registry: FastRegistry, prefix: string, human: string, icmpErrors: boolean, rttBuckets: readonly number[]): ProbeTypeMetrics {
  const t = new TaskTable(rttBuckets);
  const counter = (col: Parameters<typeof columnFamily>[2], name: string, help: string): void => void columnFamily(registry, t, col, 'counter', name, help);
  const gauge = (col: Parameters<typeof columnFamily>[2], name: string, help: string): void => void columnFamily(registry, t, col, 'gauge', name, help);
  counter('sent', `${prefix}_sent_total`, `${human} probes sent and settled (answered or lost)`);
  counter('loss', `${prefix}_loss_total`, `${human} probes without a reply within the target timeout`);
  ratioFamily(registry, t, `${prefix}_loss_ratio`, `${human} loss ratio (0..1) of the last completed round`);
  percentileFamily(registry, t, `${prefix}_round_trip_seconds`, `${human} round-trip time percentile of the last completed round (NaN when nothing answered)`);
  gauge('sentCreated', `${prefix}_sent_created`, `Unix time the ${prefix}_sent_total series was created`);
  gauge('lossCreated', `${prefix}_loss_created`, `Unix time the ${prefix}_loss_total series was created`);
  histogramFamily(registry, t, `${prefix}_rtt_seconds`, `${human} round-trip times from kernel capture timestamps (wireprobe)`);
  gauge('last', `${prefix}_last_success_timestamp_seconds`, `Unix time of the last ${human} round with at least one reply (wireprobe)`);
  counter('indet', `${prefix}_indeterminate_total`, `${human} probes left unanswered while the capture dropped frames: neither sent nor lost (wireprobe)`);
  counter('sendErr', `${prefix}_send_errors_total`, `${human} probes the kernel refused to send: neither sent nor lost (wireprobe)`);
  if (icmpErrors) {
    counter('icmpErr', `${prefix}_icmp_errors_total`, `${human} probes answered by an ICMP error other than the expected one (unreachable, administratively prohibited, …): sent, not lost (wireprobe)`);
  }
  return {
    tasks: t,
    icmpErrors,
    hostSent: new FastFamily(registry, 'counter', `${prefix}_host_sent_total`, `${human} probes sent and settled, per address of an is_subnet target with per_host_metrics (wireprobe)`, TP),
    hostLoss: new FastFamily(registry, 'counter', `${prefix}_host_loss_total`, `${human} probes lost, per address of an is_subnet target with per_host_metrics (wireprobe)`, TP),
    hostLastRtt: new FastFamily(registry, 'gauge', `${prefix}_host_last_rtt_seconds`, `${human} round-trip time of the last answered probe, per address of an is_subnet target with per_host_metrics (wireprobe)`, TP),
  };
}

export interface Catalog {
  /** prom-client: everything but the per-target hot-path families */
  readonly registry: Registry;
  /** the per-target hot-path families (see fast.ts) */
  readonly fast: FastRegistry;
  /** the per-target families of each probe type, by metric prefix */
  readonly probes: Readonly<Record<string, ProbeTypeMetrics>>;
  readonly threshold: FastFamily<(typeof TH)[number]>;
  /** the three resolution families' table (target-table.ts) */
  readonly resolutionStatus: TargetFamily;
  readonly resolutionChange: TargetFamily;
  readonly resolutionChangeCreated: TargetFamily;
  /**
   * netprobify's diagnostic "counts" of answers matching none of our probes, by the reason the
   * probe type's matcher gives: gauges that only grow (names kept for compatibility); the
   * families of one probe type share a table
   */
  readonly unmatched: Readonly<Record<string, TargetFamily>>;
  /** every table of the families above (a row per target): removing a target removes its row from each */
  readonly targetTables: readonly TargetTable[];
  readonly iterationTime: Gauge<'probe_name'>;
  readonly interval: Gauge<'probe_name'>;
  readonly targetNameDup: Counter<'target_name'>;
  readonly processTimedOut: Counter<'probe_name'>;
  /** targets/quarantine.ts */
  readonly quarantined: Counter<'stage'>;
  readonly reloadFailed: Gauge<'probe_name'>;
  readonly reloadLastSuccess: Gauge;
  readonly reloads: Counter<'result'>;
  readonly netprobifyInfo: Gauge<'version' | 'scapy_version'>;
  readonly info: Gauge<'version'>;
}

/**
 * The families of every probe type of `probes` (the registry: src/probes/index.ts, in its
 * order) and the rest; `rttBuckets`: global.rtt_buckets.
 */
export function createCatalog(
  probes: readonly ProbeMetricsInput[],
  registry: Registry = new Registry(),
  fast: FastRegistry = new FastRegistry(),
  rttBuckets: readonly number[] = DEFAULT_RTT_BUCKETS,
): Catalog {
  const r = [registry];
  // registration order is exposition order: per-type families, per-target health, diagnostics
  const perType = Object.fromEntries(probes.map((p) => [p.prefix, probeTypeMetrics(fast, p.prefix, p.human, p.icmpErrors, rttBuckets)]));
  const threshold = new FastFamily(fast, 'gauge', 'threshold', 'Configured alerting threshold of a target per group (latency in seconds, loss as a 0..1 ratio)', TH);
  const resolution = new TargetTable(3);
  const resolutionStatus = new TargetFamily(fast, resolution, 0, 'gauge', 'app_host_resolution_status', 'Whether the target destination resolves (1) or not (0)', T3);
  const resolutionChange = new TargetFamily(fast, resolution, 1, 'counter', 'app_host_resolution_change_total', 'Changes of the resolved address of a target, the first resolution included', T3);
  const resolutionChangeCreated = new TargetFamily(fast, resolution, 2, 'gauge', 'app_host_resolution_change_created', 'Unix time the app_host_resolution_change_total series was created', T3);
  const targetTables = [resolution];
  const unmatched = Object.fromEntries(
    probes.flatMap((p) => {
      const table = new TargetTable(p.unmatched.length);
      targetTables.push(table);
      return p.unmatched.map((u, i) => [u.what, new TargetFamily(fast, table, i, 'gauge', u.name, u.help, T3)] as const);
    }),
  );
  const timeOoo = new TimeOooFamily(fast, 'app_time_ooo_total', 'RTT samples discarded because the reply timestamp preceded the request (always 0 with kernel timestamps; kept for netprobify compatibility)');
  for (const m of Object.values(perType)) timeOoo.add(m.tasks);
  return {
    registry,
    fast,
    probes: perType,
    threshold,
    resolutionStatus,
    resolutionChange,
    resolutionChangeCreated,
    unmatched,
    targetTables,
    iterationTime: new Gauge({ name: 'app_iteration_time_seconds', help: 'Duration of the last complete probing round, from its start to its last settled probe', labelNames: ['probe_name'], registers: r }),
    interval: new Gauge({ name: 'wireprobe_interval_seconds', help: 'Configured seconds between the starts of two probing rounds (global.interval), to compare app_iteration_time_seconds with', labelNames: ['probe_name'], registers: r }),
    targetNameDup: new Counter({ name: 'app_target_name_dup_total', help: 'Duplicate target names met while loading targets', labelNames: ['target_name'], registers: r }),
    processTimedOut: new Counter({ name: 'app_process_timed_out_total', help: 'Target rounds abandoned after the global timeout', labelNames: ['probe_name'], registers: r }),
    quarantined: new Counter({ name: 'wireprobe_targets_quarantined_total', help: 'Targets left out of probing because their entry failed to build (stage="build") or its rounds failed to run (stage="run"); the reason is logged', labelNames: ['stage'], registers: r }),
    reloadFailed: new Gauge({ name: 'app_reload_conf_failed_status', help: 'Whether the last configuration reload failed (1) and the previous configuration is still in use', labelNames: ['probe_name'], registers: r }),
    reloadLastSuccess: new Gauge({ name: 'wireprobe_reload_last_success_timestamp_seconds', help: 'Unix time of the last successful configuration reload (the start counts as one)', registers: r }),
    reloads: new Counter({ name: 'wireprobe_reloads_total', help: 'Configuration reload attempts by result: ok, failed (the running configuration stays), unchanged (periodic or watch trigger, same content)', labelNames: ['result'], registers: r }),
    netprobifyInfo: new Gauge({ name: 'netprobify_info', help: 'netprobify-compatible build information (version is wireprobe\'s; no scapy)', labelNames: ['version', 'scapy_version'], registers: r }),
    info: new Gauge({ name: 'wireprobe_info', help: 'wireprobe build information', labelNames: ['version'], registers: r }),
  };
}
