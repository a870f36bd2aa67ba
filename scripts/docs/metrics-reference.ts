/**
 * The metrics reference (docs/metrics.md), generated from the metric declarations themselves:
 * every registry wireprobe fills is built here in memory, with no network, no file and no
 * process started, and each family is listed with its type, labels and help.
 */
import { Registry } from 'prom-client';
import { createApiMetrics } from '../../src/api/metrics.js';
import { createOperationsMetrics } from '../../src/api/operations-metrics.js';
import { checkKinds } from '../../src/checks/index.js';
import { createFleetMetrics } from '../../src/fleet/metrics.js';
import { createInventoryMetrics } from '../../src/inventory/metrics.js';
import { createCatalog } from '../../src/metrics/catalog.js';
import { registerFlowMetrics } from '../../src/flows/metrics.js';
import { probeKinds } from '../../src/probes/index.js';
import { createCheckMetrics } from '../../src/metrics/check-metrics.js';
import { registerEngineMetrics, type EngineSnapshot } from '../../src/metrics/engine-metrics.js';
import { FastRegistry } from '../../src/metrics/fast.js';
import { registerProcessMetrics } from '../../src/metrics/process-metrics.js';

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface FamilyDoc {
  readonly name: string;
  readonly type: FamilyType;
  readonly labels: readonly string[];
  readonly help: string;
  /** exported by netprobify under the same name and labels */
  readonly netprobify: boolean;
}

export interface SectionDoc {
  readonly title: string;
  readonly intro: string;
  readonly families: readonly FamilyDoc[];
}

/**
 * The families netprobify exports (its probe families, prometheus_client's `_created` series
 * and default process collector included).
 */
export const NETPROBIFY_FAMILIES: ReadonlySet<string> = new Set([
  ...['icmp', 'tcpsyn', 'udp_unreachable'].flatMap((p) => [
    `${p}_sent_total`, `${p}_loss_total`, `${p}_loss_ratio`, `${p}_round_trip_seconds`, `${p}_sent_created`, `${p}_loss_created`,
  ]),
  'tcpsyn_match_ack_fail_count', 'tcpsyn_port_mismatch_count', 'udp_unreachable_port_mismatch_count',
  'threshold', 'app_host_resolution_status', 'app_host_resolution_change_total', 'app_host_resolution_change_created',
  'app_time_ooo_total', 'app_iteration_time_seconds', 'app_target_name_dup_total', 'app_process_timed_out_total',
  'app_reload_conf_failed_status', 'netprobify_info',
  'process_cpu_seconds_total', 'process_virtual_memory_bytes', 'process_resident_memory_bytes',
  'process_start_time_seconds', 'process_open_fds', 'process_max_fds',
]);

const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary']);

function isFamilyType(t: string): t is FamilyType {
  return TYPES.has(t);
}

function family(name: string, type: string, labels: readonly string[], help: string): FamilyDoc {
  if (!isFamilyType(type)) throw new Error(`${name}: unknown metric type ${type}`);
  return { name, type, labels, help, netprobify: NETPROBIFY_FAMILIES.has(name) };
}

/** The families of a prom-client registry, in registration order (nothing is collected). */
export function registryFamilies(registry: Registry, except: ReadonlySet<string> = new Set()): FamilyDoc[] {
  return registry
    .getMetricsAsArray()
    .filter((m) => !except.has(m.name))
    .map((m) => {
      // prom-client's typings declare neither labelNames nor the string type the objects carry
      const labels: unknown = Reflect.get(m, 'labelNames');
      const names = Array.isArray(labels) ? labels.map(String) : [];
      return family(m.name, String(m.type), names, m.help);
    });
}

function fastFamilies(fast: FastRegistry): FamilyDoc[] {
  return fast.families.map((f) => family(f.name, f.type, f.labelNames, f.help));
}

const IDLE_ENGINE: EngineSnapshot = {
  sent: 0, sendErrors: 0, matched: 0, late: 0, duplicates: 0, unmatched: 0, txNotCaptured: 0, icmpErrors: 0,
  rstSent: 0, slotsExhausted: 0, decodeErrors: 0, answeredAfterLoss: 0, captureBehind: 0, inFlight: 0, sendLagSeconds: 0, workerTasks: 0,
  captures: [],
  probesDeferred: 0, probesSkipped: 0, admittedRate: Infinity, eventLoopLagSeconds: 0,
};

function built(fill: (r: Registry) => void): Registry {
  const r = new Registry();
  fill(r);
  return r;
}

function checkSections(): SectionDoc[] {
  const envelope = built((r) => createCheckMetrics(r, []));
  const envelopeNames = new Set(envelope.getMetricsAsArray().map((m) => m.name));
  const kinds = Object.values(checkKinds).map((k) => ({
    title: `Host check \`${k.kind}\``,
    intro: `Exported from the last run of each \`checks.${k.kind}\` instance (label \`name\`).`,
    families: registryFamilies(built((r) => createCheckMetrics(r, [k])), envelopeNames),
  }));
  return [
    {
      title: 'Host checks: envelope',
      intro: 'Every host check instance, whatever its kind (labels `check`: the kind, `name`: the instance).',
      families: registryFamilies(envelope),
    },
    ...kinds,
  ];
}

/** Every metric family wireprobe can export, grouped by the part of wireprobe that owns it. */
export function metricSections(): SectionDoc[] {
  const fast = new FastRegistry();
  const app = createCatalog(probeKinds.map((k) => k.metrics), new Registry(), fast);
  return [
    { title: 'Probing, per target', intro: 'One series per (target, group) and probe type; the `host` label only with `per_host_metrics`.', families: fastFamilies(fast) },
    { title: 'Application', intro: 'Rounds, configuration reloads and build information.', families: registryFamilies(app.registry) },
    { title: 'Engine and capture', intro: 'wireprobe\'s own health, read at scrape time.', families: registryFamilies(built((r) => registerEngineMetrics(r, () => IDLE_ENGINE))) },
    { title: 'Process', intro: 'The wireprobe process (Node.js).', families: registryFamilies(built((r) => registerProcessMetrics(r, 0))) },
    ...checkSections(),
    { title: 'Dynamic inventories', intro: 'One series set per configured inventory (label `inventory`).', families: registryFamilies(built((r) => createInventoryMetrics(r))) },
    { title: 'REST target API', intro: 'Only when the `api` section enables the API.', families: registryFamilies(built((r) => createApiMetrics(r))) },
    {
      title: 'Flow collector',
      intro: 'Only when the `flows` section enables the collector. `exporter` is bounded by `flows.max_exporters` (later exporters count as `other`); the top-talker series by `flows.top.max_series`.',
      families: registryFamilies(built((r) => registerFlowMetrics(r, { exporters: () => [], sockets: () => [], sinks: () => [], top: () => [], jobs: () => ({ pool: 0, inline: 0 }), topWindowSeconds: 60 }))),
    },
    {
      title: 'On-demand operations',
      intro: 'Only when the `operations` section is present: ping, traceroute and mtr started through `/api/v1/operations`.',
      families: registryFamilies(built((r) => void createOperationsMetrics(r))),
    },
    { title: 'Fleet', intro: 'Only when the `fleet` section is enabled: the NATS connection, membership and dispatched operations.', families: registryFamilies(built((r) => createFleetMetrics(r, () => ({ live: 0, gone: 0 })))) },
  ];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function renderSection(s: SectionDoc): string[] {
  const rows = s.families.map((f) => {
    const labels = f.labels.length === 0 ? '—' : f.labels.map((l) => `\`${l}\``).join(', ');
    const part = f.netprobify ? 'netprobify' : 'wireprobe';
    return `| \`${f.name}\` | ${f.type} | ${labels} | ${part} | ${cell(f.help)} |`;
  });
  return [`## ${s.title}`, '', s.intro, '', '| metric | type | labels | from | help |', '|---|---|---|---|---|', ...rows, ''];
}

export function renderMetricsReference(sections: readonly SectionDoc[]): string {
  const total = sections.reduce((n, s) => n + s.families.length, 0);
  const compatible = sections.reduce((n, s) => n + s.families.filter((f) => f.netprobify).length, 0);
  return [
    '# Metrics reference',
    '',
    '<!-- Generated by `make docs` (scripts/gen-docs.ts) from the metric declarations; do not edit. -->',
    '',
    `${total} metric families. "from: netprobify" marks the ${compatible} families netprobify exports under the same`,
    'name and labels (drop-in compatible); "wireprobe" marks additions. Histograms also expose',
    '`_bucket`, `_sum` and `_count` series.',
    '',
    ...sections.flatMap(renderSection),
  ].join('\n');
}
