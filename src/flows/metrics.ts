/**
 * The flow collector's metrics, read at scrape time from the decoder's per-exporter counters,
 * the sockets, the sinks and the last top-talker window. Every label set is bounded: exporters
 * by the decoder's limit (later ones are "other"), top-talker entries by `top.max_series`,
 * sockets by `listen`, sinks by the config.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ExporterState } from '../packet/flow/decoder.js';
import type { FlowSinkStats } from './types.js';
import type { TopEntry } from './top.js';

export interface SocketStats {
  /** "address:port" */
  readonly listen: string;
  /** how the socket is read (net/udp-receiver.ts) */
  readonly receiver: 'recvmmsg' | 'dgram';
  readonly receiveBufferBytes: number;
  /** SO_RXQ_OVFL, or /proc/net/udp{,6}; null while unknown */
  readonly kernelDrops: number | null;
  /** receive errors so far (net/udp-receiver.ts errors()) */
  readonly errors: number;
}

export interface FlowMetricsSource {
  /** every exporter with state, and the overflow ("other") */
  exporters(): Iterable<ExporterState>;
  sockets(): readonly SocketStats[];
  sinks(): readonly { readonly name: string; readonly stats: FlowSinkStats }[];
  top(): readonly TopEntry[];
  /** decoding jobs run so far, in the worker pool and on the collector's thread */
  jobs(): { readonly pool: number; readonly inline: number };
  readonly topWindowSeconds: number;
}

const VERSIONS = [5, 9, 10] as const;

/** writes one sample of a family being collected */
type Emit = (labels: Record<string, string>, value: number) => void;

export function registerFlowMetrics(registry: Registry, src: FlowMetricsSource): void {
  const registers = [registry];
  /** one family whose samples are all written at scrape time by `rows` (counters: absolute totals) */
  const family = (kind: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[], rows: (emit: Emit) => void): void => {
    const collect = function (this: Counter | Gauge): void {
      this.reset();
      if (kind === 'gauge') rows((l, v) => (this as Gauge).set(l, v));
      else rows((l, v) => (this as Counter).inc(l, v));
    };
    if (kind === 'counter') new Counter({ name, help, labelNames, registers, collect });
    else new Gauge({ name, help, labelNames, registers, collect });
  };
  const perExporter = (name: string, help: string, pick: (e: ExporterState) => number, kind: 'counter' | 'gauge'): void =>
    family(kind, name, help, ['exporter'], (emit) => {
      for (const e of src.exporters()) {
        const v = pick(e);
        if (kind === 'gauge' || v > 0) emit({ exporter: e.address }, v);
      }
    });
  const perVersion = (name: string, help: string, pick: (e: ExporterState) => Readonly<Record<5 | 9 | 10, number>>): void =>
    family('counter', name, help, ['exporter', 'version'], (emit) => {
      for (const e of src.exporters()) {
        const counts = pick(e);
        for (const v of VERSIONS) if (counts[v] > 0) emit({ exporter: e.address, version: String(v) }, counts[v]);
      }
    });
  perVersion('wireprobe_flow_datagrams_total', 'NetFlow/IPFIX datagrams received per exporter and version (malformed ones included)', (e) => e.datagrams);
  perExporter('wireprobe_flow_flows_total', 'Flow records decoded per exporter', (e) => e.flows, 'counter');
  perExporter('wireprobe_flow_bytes_total', 'Bytes of the decoded flows per exporter, scaled by the sampling interval', (e) => e.bytes, 'counter');
  perExporter('wireprobe_flow_packets_total', 'Packets of the decoded flows per exporter, scaled by the sampling interval', (e) => e.packets, 'counter');
  family('counter', 'wireprobe_flow_decode_errors_total', 'Datagrams (or buffered data sets) dropped as malformed or over a limit, per exporter and reason', ['exporter', 'reason'], (emit) => {
    for (const e of src.exporters()) for (const [reason, n] of e.errors) emit({ exporter: e.address, reason }, n);
  });
  perExporter('wireprobe_flow_templates', 'Templates (data and options) known for the exporter', (e) => e.templateCount, 'gauge');
  perExporter('wireprobe_flow_early_data_buffered', 'Datagrams held for the exporter until their template arrives', (e) => e.earlyBuffered, 'gauge');
  family('counter', 'wireprobe_flow_early_data_evicted_total', 'Held datagrams dropped before their template came, per exporter and reason (age, count)', ['exporter', 'reason'], (emit) => {
    for (const e of src.exporters()) {
      if (e.earlyEvictedAge > 0) emit({ exporter: e.address, reason: 'age' }, e.earlyEvictedAge);
      if (e.earlyEvictedCount > 0) emit({ exporter: e.address, reason: 'count' }, e.earlyEvictedCount);
    }
  });
  perExporter('wireprobe_flow_early_data_decoded_total', 'Held datagrams decoded once their template came', (e) => e.earlyDecoded, 'counter');
  perVersion(
    'wireprobe_flow_sequence_lost_total',
    'Lost according to the sequence numbers, per exporter and version: v5 counts flows, v9 export packets, IPFIX data records',
    (e) => e.sequenceLost,
  );
  perExporter('wireprobe_flow_sampling_rate', 'Sampling interval applied to the exporter\'s last flow (1: unsampled)', (e) => e.lastSamplingRate, 'gauge');
  perExporter('wireprobe_flow_exporter_last_datagram_timestamp_seconds', 'Unix time of the exporter\'s last datagram', (e) => e.lastDatagramMs / 1000, 'gauge');
  family('counter', 'wireprobe_flow_decode_jobs_total', 'Batches of flow data sets decoded, per place: pool (a worker thread) or inline (the collector\'s thread: flows.decode inline, or the pool behind)', ['where'], (emit) => {
    const j = src.jobs();
    emit({ where: 'pool' }, j.pool);
    emit({ where: 'inline' }, j.inline);
  });
  family('gauge', 'wireprobe_flow_socket_receiver', 'How the socket is read (1): receiver="recvmmsg", in batches by wireprobe\'s addon, or "dgram", Node\'s one event per datagram (the fallback when the addon is not built)', ['listen', 'receiver'], (emit) => {
    for (const s of src.sockets()) emit({ listen: s.listen, receiver: s.receiver }, 1);
  });
  family('gauge', 'wireprobe_flow_socket_receive_buffer_bytes', 'Receive buffer (SO_RCVBUF) the kernel granted the socket', ['listen'], (emit) => {
    for (const s of src.sockets()) emit({ listen: s.listen }, s.receiveBufferBytes);
  });
  family('counter', 'wireprobe_flow_socket_kernel_drops_total', 'Datagrams the kernel dropped on the socket (receive buffer full): SO_RXQ_OVFL with the recvmmsg receiver, else /proc/net/udp and /proc/net/udp6', ['listen'], (emit) => {
    for (const s of src.sockets()) if (s.kernelDrops !== null) emit({ listen: s.listen }, s.kernelDrops);
  });
  family('counter', 'wireprobe_flow_socket_errors_total', 'Receive errors on the socket other than "nothing to read": recvmmsg failing or a pending socket error with the recvmmsg receiver (the socket is read on after it), \'error\' events with dgram', ['listen'], (emit) => {
    for (const s of src.sockets()) emit({ listen: s.listen }, s.errors);
  });
  const sink = (name: string, help: string, pick: (s: FlowSinkStats) => number, kind: 'counter' | 'gauge'): void =>
    family(kind, name, help, ['sink'], (emit) => {
      for (const s of src.sinks()) emit({ sink: s.name }, pick(s.stats));
    });
  sink('wireprobe_flow_sink_written_total', 'Flow rows the store wrote', (s) => s.written, 'counter');
  sink('wireprobe_flow_sink_dropped_total', 'Flow rows the store refused because its queue was full', (s) => s.dropped, 'counter');
  sink('wireprobe_flow_sink_expired_total', 'Flow rows the store deleted by retention', (s) => s.expired, 'counter');
  sink('wireprobe_flow_sink_queued_rows', 'Flow rows waiting to be written', (s) => s.queued, 'gauge');
  sink('wireprobe_flow_sink_size_bytes', 'Bytes the store occupies', (s) => s.sizeBytes, 'gauge');
  const top = (name: string, help: string, pick: (t: TopEntry) => number): void =>
    family('gauge', name, help, ['by', 'exporter', 'key'], (emit) => {
      for (const t of src.top()) emit({ by: t.by, exporter: t.exporter, key: t.key }, pick(t));
    });
  top('wireprobe_flow_top_bytes', 'Bytes of the top talkers in the last complete window, by key kind (by); key="others" holds the rest of the group', (t) => t.bytes);
  top('wireprobe_flow_top_packets', 'Packets of the top talkers in the last complete window (same keys as wireprobe_flow_top_bytes)', (t) => t.packets);
  top('wireprobe_flow_top_flows', 'Flows of the top talkers in the last complete window (same keys as wireprobe_flow_top_bytes)', (t) => t.flows);
  family('gauge', 'wireprobe_flow_top_window_seconds', 'Length of the top-talker window', [], (emit) => emit({}, src.topWindowSeconds));
}
