/**
 * Metrics of on-demand operations (the registry's OperationsRecorder): started by kind,
 * refused by reason, finished by kind and state, and the number running. Every label value
 * comes from a fixed list and every series exists from the start.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { FINAL_STATES, REFUSAL_REASONS, type OperationsRecorder } from '../operations/registry.js';
import { OPERATION_KINDS } from '../operations/spec.js';

export function createOperationsMetrics(registry: Registry): OperationsRecorder {
  const registers = [registry];
  const started = new Counter({
    name: 'wireprobe_operations_started_total',
    help: 'On-demand operations started (ping, traceroute, mtr), by kind.',
    labelNames: ['kind'],
    registers,
  });
  const refused = new Counter({
    name: 'wireprobe_operations_refused_total',
    help: 'On-demand operation requests refused before running, by reason: auth (token missing, invalid or without the operate scope), disabled, invalid, packets, duration, source, busy, rate, resolve, denied.',
    labelNames: ['reason'],
    registers,
  });
  const finished = new Counter({
    name: 'wireprobe_operations_finished_total',
    help: 'On-demand operations ended, by kind and state: done, failed (engine error or max_duration), cancelled.',
    labelNames: ['kind', 'state'],
    registers,
  });
  const running = new Gauge({ name: 'wireprobe_operations_running', help: 'On-demand operations running now.', registers });
  for (const kind of OPERATION_KINDS) {
    started.labels({ kind }).inc(0);
    for (const state of FINAL_STATES) finished.labels({ kind, state }).inc(0);
  }
  for (const reason of REFUSAL_REASONS) refused.labels({ reason }).inc(0);
  running.set(0);
  return {
    started: (kind) => started.labels({ kind }).inc(),
    refused: (reason) => refused.labels({ reason }).inc(),
    finished: (kind, state) => finished.labels({ kind, state }).inc(),
    running: (count) => running.set(count),
  };
}
