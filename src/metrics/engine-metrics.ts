/**
 * wireprobe's own health: engine and capture counters, read at scrape time from plain
 * counters the engine keeps (cheap local reads, no I/O).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface EngineSnapshot {
  readonly sent: number;
  readonly sendErrors: number;
  readonly matched: number;
  readonly late: number;
  readonly duplicates: number;
  readonly unmatched: number;
  readonly txNotCaptured: number;
  readonly icmpErrors: number;
  readonly rstSent: number;
  readonly slotsExhausted: number;
  readonly decodeErrors: number;
  readonly answeredAfterLoss: number;
  readonly captureBehind: number;
  readonly inFlight: number;
  readonly sendLagSeconds: number;
  /** admission control (scheduler/admission.ts) */
  readonly probesDeferred: number;
  readonly probesSkipped: number;
  /** probes/s; Infinity when not limited */
  readonly admittedRate: number;
  readonly eventLoopLagSeconds: number;
  readonly workerTasks: number;
  readonly captures: readonly { iface: string; received: number; dropped: number; ringBytes: number }[];
}

export function registerEngineMetrics(registry: Registry, snapshot: () => EngineSnapshot): void {
  const r = [registry];
  const take = snapshot;
  const counter = (name: string, help: string, pick: (s: EngineSnapshot) => number): void => {
    new Counter({
      name,
      help,
      registers: r,
      collect() {
        this.reset();
        this.inc(pick(take()));
      },
    });
  };
  new Gauge({
    name: 'wireprobe_probes_in_flight',
    help: 'Probes sent and not yet settled',
    registers: r,
    collect() {
      this.set(take().inFlight);
    },
  });
  counter('wireprobe_probes_sent_total', 'Probe packets handed to the kernel, all types and targets', (s) => s.sent);
  counter('wireprobe_send_errors_total', 'Probe packets the kernel refused to send', (s) => s.sendErrors);
  counter('wireprobe_replies_matched_total', 'Replies matched to a probe of ours', (s) => s.matched);
  counter('wireprobe_replies_late_total', 'Replies matched to a probe but later than its timeout (counted as loss)', (s) => s.late);
  counter('wireprobe_replies_duplicate_total', 'Second and later replies to one probe', (s) => s.duplicates);
  counter('wireprobe_frames_unmatched_total', 'Captured frames that passed the filter but matched no probe in flight', (s) => s.unmatched);
  counter('wireprobe_requests_not_captured_total', 'Answered probes whose outgoing request was not captured (no RTT sample)', (s) => s.txNotCaptured);
  counter('wireprobe_icmp_errors_total', 'TCP and UDP probes answered by an ICMP error other than the expected one', (s) => s.icmpErrors);
  counter('wireprobe_tcp_resets_sent_total', 'RSTs sent to close the half-open connection after a SYN-ACK', (s) => s.rstSent);
  counter('wireprobe_probe_ids_exhausted_total', 'Probes not sent because every probe identifier was in flight', (s) => s.slotsExhausted);
  counter(
    'wireprobe_replies_after_loss_total',
    'Answers within their timeout (kernel timestamps) captured after their probe was counted lost: false loss, the capture ran late',
    (s) => s.answeredAfterLoss,
  );
  counter(
    'wireprobe_probes_capture_behind_total',
    'Probes settled as indeterminate because their capture had not handed over every frame the kernel delivered before their deadline',
    (s) => s.captureBehind,
  );
  counter('wireprobe_decode_errors_total', 'Capture batches the worker pool failed to decode', (s) => s.decodeErrors);
  counter('wireprobe_probes_deferred_total', 'Probes that found no admission token when due and were sent later (admission control: the event loop was late, see global.max_event_loop_lag, or global.max_probe_rate)', (s) => s.probesDeferred);
  counter('wireprobe_probes_skipped_total', 'Probes not sent because their target\'s previous round was still unsent when this one was due, while admission control limited the rate or the sends ran more than global.max_event_loop_lag behind their planned time; neither sent nor lost', (s) => s.probesSkipped);
  new Gauge({
    name: 'wireprobe_admitted_probes_per_second',
    help: 'Probe packets per second admission control lets the engine send (+Inf: not limited)',
    registers: r,
    collect() {
      this.set(take().admittedRate);
    },
  });
  new Gauge({
    name: 'wireprobe_event_loop_lag_seconds',
    help: 'Worst lateness of the probing loop\'s timers over its last admission window (0.5 s): how late the event loop that also serves /metrics runs',
    registers: r,
    collect() {
      this.set(take().eventLoopLagSeconds);
    },
  });
  counter('wireprobe_worker_tasks_total', 'Tasks completed by the worker pool', (s) => s.workerTasks);
  new Gauge({
    name: 'wireprobe_send_lag_seconds',
    help: 'Largest delay of a send behind its planned time during the last round',
    registers: r,
    collect() {
      this.set(take().sendLagSeconds);
    },
  });
  new Counter({
    name: 'wireprobe_capture_received_packets_total',
    help: 'Frames the kernel delivered to the capture, per interface',
    labelNames: ['interface'],
    registers: r,
    collect() {
      this.reset();
      for (const c of take().captures) this.labels({ interface: c.iface }).inc(c.received);
    },
  });
  new Gauge({
    name: 'wireprobe_capture_ring_bytes',
    help: 'Size of the capture\'s kernel ring, per interface: it follows the requested probe rate (2 MiB up to 1 365 probes/s, 8 MiB from 2 731/s)',
    labelNames: ['interface'],
    registers: r,
    collect() {
      this.reset();
      for (const c of take().captures) this.labels({ interface: c.iface }).set(c.ringBytes);
    },
  });
  new Counter({
    name: 'wireprobe_capture_dropped_packets_total',
    help: 'Frames the capture lost (kernel buffer full or interface drops), per interface; probes left unanswered meanwhile are counted as indeterminate, not as loss',
    labelNames: ['interface'],
    registers: r,
    collect() {
      this.reset();
      for (const c of take().captures) this.labels({ interface: c.iface }).inc(c.dropped);
    },
  });
}
