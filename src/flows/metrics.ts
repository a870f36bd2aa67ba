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
  readonly receiveBufferBytes: number;
  /** from /proc/net/udp{,6}; null while unknown */
  readonly kernelDrops: number | null;
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

export function registerFlowMetrics(registry: Registry, src: FlowMetricsSource): void {
  const registers = [registry];
  const perExporter = (name: string, help: string, pick: (e: ExporterState) => number, kind: 'counter' | 'gauge'): void => {
    const collect = function (this: Counter | Gauge): void {
      this.reset();
      for (const e of src.exporters()) {
        const v = pick(e);
        if (kind === 'gauge') (this as Gauge).set({ exporter: e.address }, v);
        else if (v > 0) (this as Counter).inc({ exporter: e.address }, v);
      }
    };
    if (kind === 'counter') new Counter({ name, help, labelNames: ['exporter'], registers, collect });
    else new Gauge({ name, help, labelNames: ['exporter'], registers, collect });
  };
  const perVersion = (name: string, help: string, pick: (e: ExporterState) => Readonly<Record<5 | 9 | 10, number>>): void => {
    new Counter({
      name, help, labelNames: ['exporter', 'version'], registers,
      collect() {
        this.reset();
        for (const e of src.exporters()) {
          const counts = pick(e);
          for (const v of VERSIONS) if (counts[v] > 0) this.inc({ exporter: e.address, version: String(v) }, counts[v]);
        }
      },
    });
  };
  perVersion('wireprobe_flow_datagrams_total', 'NetFlow/IPFIX datagrams received per exporter and version (malformed ones included)', (e) => e.datagrams);
  perExporter('wireprobe_flow_flows_total', 'Flow records decoded per exporter', (e) => e.flows, 'counter');
  perExporter('wireprobe_flow_bytes_total', 'Bytes of the decoded flows per exporter, scaled by the sampling interval', (e) => e.bytes, 'counter');
  perExporter('wireprobe_flow_packets_total', 'Packets of the decoded flows per exporter, scaled by the sampling interval', (e) => e.packets, 'counter');
  new Counter({
    name: 'wireprobe_flow_decode_errors_total',
    help: 'Datagrams (or buffered data sets) dropped as malformed or over a limit, per exporter and reason',
    labelNames: ['exporter', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const e of src.exporters()) for (const [reason, n] of e.errors) this.inc({ exporter: e.address, reason }, n);
    },
  });
  perExporter('wireprobe_flow_templates', 'Templates (data and options) known for the exporter', (e) => e.templateCount, 'gauge');
  perExporter('wireprobe_flow_early_data_buffered', 'Datagrams held for the exporter until their template arrives', (e) => e.earlyBuffered, 'gauge');
  new Counter({
    name: 'wireprobe_flow_early_data_evicted_total',
    help: 'Held datagrams dropped before their template came, per exporter and reason (age, count)',
    labelNames: ['exporter', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const e of src.exporters()) {
        if (e.earlyEvictedAge > 0) this.inc({ exporter: e.address, reason: 'age' }, e.earlyEvictedAge);
        if (e.earlyEvictedCount > 0) this.inc({ exporter: e.address, reason: 'count' }, e.earlyEvictedCount);
      }
    },
  });
  perExporter('wireprobe_flow_early_data_decoded_total', 'Held datagrams decoded once their template came', (e) => e.earlyDecoded, 'counter');
  perVersion(
    'wireprobe_flow_sequence_lost_total',
    'Lost according to the sequence numbers, per exporter and version: v5 counts flows, v9 export packets, IPFIX data records',
    (e) => e.sequenceLost,
  );
  perExporter('wireprobe_flow_sampling_rate', 'Sampling interval applied to the exporter\'s last flow (1: unsampled)', (e) => e.lastSamplingRate, 'gauge');
  perExporter('wireprobe_flow_exporter_last_datagram_timestamp_seconds', 'Unix time of the exporter\'s last datagram', (e) => e.lastDatagramMs / 1000, 'gauge');
  new Counter({
    name: 'wireprobe_flow_decode_jobs_total',
    help: 'Batches of flow data sets decoded, per place: pool (a worker thread) or inline (the collector\'s thread, when the pool is behind)',
    labelNames: ['where'],
    registers,
    collect() {
      this.reset();
      const j = src.jobs();
      this.inc({ where: 'pool' }, j.pool);
      this.inc({ where: 'inline' }, j.inline);
    },
  });
  new Gauge({
    name: 'wireprobe_flow_socket_receive_buffer_bytes',
    help: 'Receive buffer (SO_RCVBUF) the kernel granted the socket',
    labelNames: ['listen'],
    registers,
    collect() {
      this.reset();
      for (const s of src.sockets()) this.set({ listen: s.listen }, s.receiveBufferBytes);
    },
  });
  new Counter({
    name: 'wireprobe_flow_socket_kernel_drops_total',
    help: 'Datagrams the kernel dropped on the socket (receive buffer full), from /proc/net/udp and /proc/net/udp6',
    labelNames: ['listen'],
    registers,
    collect() {
      this.reset();
      for (const s of src.sockets()) if (s.kernelDrops !== null) this.inc({ listen: s.listen }, s.kernelDrops);
    },
  });
  const sink = (name: string, help: string, pick: (s: FlowSinkStats) => number, kind: 'counter' | 'gauge'): void => {
    const collect = function (this: Counter | Gauge): void {
      this.reset();
      for (const s of src.sinks()) {
        const v = pick(s.stats);
        if (kind === 'gauge') (this as Gauge).set({ sink: s.name }, v);
        else (this as Counter).inc({ sink: s.name }, v);
      }
    };
    if (kind === 'counter') new Counter({ name, help, labelNames: ['sink'], registers, collect });
    else new Gauge({ name, help, labelNames: ['sink'], registers, collect });
  };
  sink('wireprobe_flow_sink_written_total', 'Flow rows the store wrote', (s) => s.written, 'counter');
  sink('wireprobe_flow_sink_dropped_total', 'Flow rows the store refused because its queue was full', (s) => s.dropped, 'counter');
  sink('wireprobe_flow_sink_expired_total', 'Flow rows the store deleted by retention', (s) => s.expired, 'counter');
  sink('wireprobe_flow_sink_queued_rows', 'Flow rows waiting to be written', (s) => s.queued, 'gauge');
  sink('wireprobe_flow_sink_size_bytes', 'Bytes the store occupies', (s) => s.sizeBytes, 'gauge');
  const top = (name: string, help: string, pick: (t: TopEntry) => number): void => {
    new Gauge({
      name, help, labelNames: ['by', 'exporter', 'key'], registers,
      collect() {
        this.reset();
        for (const t of src.top()) this.set({ by: t.by, exporter: t.exporter, key: t.key }, pick(t));
      },
    });
  };
  top('wireprobe_flow_top_bytes', 'Bytes of the top talkers in the last complete window, by key kind (by); key="others" holds the rest of the group', (t) => t.bytes);
  top('wireprobe_flow_top_packets', 'Packets of the top talkers in the last complete window (same keys as wireprobe_flow_top_bytes)', (t) => t.packets);
  top('wireprobe_flow_top_flows', 'Flows of the top talkers in the last complete window (same keys as wireprobe_flow_top_bytes)', (t) => t.flows);
  new Gauge({
    name: 'wireprobe_flow_top_window_seconds',
    help: 'Length of the top-talker window',
    registers,
    collect() {
      this.set(src.topWindowSeconds);
    },
  });
}
