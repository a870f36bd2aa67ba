/**
 * The conntrack check's metric families and the samples of one run. Label cardinality: `stat` is
 * bounded by the kernel's statistics (at most 32 names), `address` by `top_n` (≤ 100) per family.
 */
import type { TallyKey } from '../lib/address-tally.js';
import type { FlowAggregate } from './conntrack-flows.js';
import type { ConntrackStats } from './conntrack-stats.js';
import type { MetricSpec, Sample } from './types.js';

const P = 'wireprobe_conntrack_';

type Side = 'source' | 'destination';

/** A top-N family: one series per address, named as flowSamples() names them. */
function top(side: Side, key: TallyKey, help: string): MetricSpec {
  return { name: `${P}top_${side}_${key}`, type: 'gauge', labelNames: ['address'], help };
}

export const CONNTRACK_METRICS: readonly MetricSpec[] = [
  { name: `${P}entries`, type: 'gauge', labelNames: [], help: 'Entries in the conntrack table of the network namespace (nf_conntrack_count).' },
  {
    name: `${P}max`,
    type: 'gauge',
    labelNames: [],
    help: 'Maximum number of conntrack entries (nf_conntrack_max; on recent kernels one global value, applied to each namespace\'s own count).',
  },
  { name: `${P}fill_ratio`, type: 'gauge', labelNames: [], help: 'entries / max of the network namespace.' },
  {
    name: `${P}stat_total`,
    type: 'counter',
    labelNames: ['stat'],
    help: 'Kernel conntrack statistics of the network namespace (conntrack -S, netlink), summed over CPUs, by kernel name (insert_failed, drop, early_drop, …).',
  },
  { name: `${P}listed_flows`, type: 'gauge', labelNames: [], help: 'Flows read from the conntrack table listing (conntrack -L) in the last run.' },
  { name: `${P}unparsed_lines`, type: 'gauge', labelNames: [], help: 'Lines of the last listing that were not a well-formed flow.' },
  {
    name: `${P}distinct_addresses`,
    type: 'gauge',
    labelNames: ['direction'],
    help: 'Distinct source / destination addresses (original direction) among the listed flows.',
  },
  top('source', 'flows', 'Flows per source address (original direction), top N.'),
  top('destination', 'flows', 'Flows per destination address (original direction), top N.'),
  top('source', 'bytes', 'Bytes (both directions) of the flows per source address, top N; only with accounting (nf_conntrack_acct=1).'),
  top('source', 'packets', 'Packets (both directions) of the flows per source address, top N; only with accounting.'),
  top('destination', 'bytes', 'Bytes (both directions) of the flows per destination address, top N; only with accounting.'),
  top('destination', 'packets', 'Packets (both directions) of the flows per destination address, top N; only with accounting.'),
  {
    name: `${P}top_source_share`,
    type: 'gauge',
    labelNames: [],
    help: 'Share (0–1) of all listed flows held by the source address with the most flows.',
  },
];

export interface TableSize {
  readonly entries: number;
  readonly max: number;
}

export function fillRatio(t: TableSize): number {
  return t.max > 0 ? t.entries / t.max : 0;
}

export function tableSamples(t: TableSize): Sample[] {
  return [
    { metric: `${P}entries`, labels: {}, value: t.entries },
    { metric: `${P}max`, labels: {}, value: t.max },
    { metric: `${P}fill_ratio`, labels: {}, value: fillRatio(t) },
  ];
}

export function statSamples(stats: ConntrackStats): Sample[] {
  return [...stats.totals].map(([stat, value]) => ({ metric: `${P}stat_total`, labels: { stat }, value }));
}

export function flowSamples(flows: FlowAggregate, n: number): Sample[] {
  const out: Sample[] = [
    { metric: `${P}listed_flows`, labels: {}, value: flows.flows },
    { metric: `${P}unparsed_lines`, labels: {}, value: flows.malformed },
    { metric: `${P}distinct_addresses`, labels: { direction: 'source' }, value: flows.sources.size },
    { metric: `${P}distinct_addresses`, labels: { direction: 'destination' }, value: flows.destinations.size },
    { metric: `${P}top_source_share`, labels: {}, value: flows.topSourceShare() },
  ];
  const keys = flows.counted > 0 ? (['flows', 'bytes', 'packets'] as const) : (['flows'] as const);
  for (const [side, tally] of [['source', flows.sources], ['destination', flows.destinations]] as const) {
    for (const key of keys) {
      for (const r of tally.top(key, n)) out.push({ metric: `${P}top_${side}_${key}`, labels: { address: r.address }, value: r.value });
    }
  }
  return out;
}
