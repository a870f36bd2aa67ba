/**
 * The `wireprobe_fleet_*` metrics: connection state, members, heartbeats, operations this
 * member dispatched and how they were answered, requests it received. Label values are bounded.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LinkState } from './connection.js';
import type { MemberStatus } from './dispatch.js';

export interface FleetMetrics {
  state(s: LinkState): void;
  /** a failed attempt, by its error code (FLEET_ERR_AUTH or FLEET_ERR_CONNECT) */
  connectFailure(code: string): void;
  heartbeat(): void;
  /** one operation sent to `members` members */
  dispatched(members: number): void;
  answered(status: MemberStatus): void;
  request(outcome: 'run' | 'refused' | 'error'): void;
}

const STATES: readonly LinkState[] = ['connecting', 'connected', 'reconnecting', 'stopped'];

export function createFleetMetrics(registry: Registry, members: () => { live: number; gone: number }): FleetMetrics {
  const registers = [registry];
  const connected = new Gauge({ name: 'wireprobe_fleet_connected', help: '1 while this member is connected to NATS, else 0.', registers });
  const state = new Gauge({
    name: 'wireprobe_fleet_connection_state',
    help: 'The NATS connection state of this member: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers,
  });
  const failures = new Counter({
    name: 'wireprobe_fleet_connect_failures_total',
    help: 'Failed NATS connection attempts, by reason: connect (unreachable, timeout, TLS) or auth (credentials refused).',
    labelNames: ['reason'],
    registers,
  });
  new Gauge({
    name: 'wireprobe_fleet_members',
    help: 'Fleet members known from the members bucket: live (heartbeat within their gone_after) or gone.',
    labelNames: ['state'],
    registers,
    collect() {
      const m = members();
      this.labels({ state: 'live' }).set(m.live);
      this.labels({ state: 'gone' }).set(m.gone);
    },
  });
  const heartbeats = new Counter({ name: 'wireprobe_fleet_heartbeats_total', help: 'Heartbeats this member put in the members bucket.', registers });
  const dispatched = new Counter({ name: 'wireprobe_fleet_dispatched_total', help: 'Operation requests this member sent to fleet members (one per addressed member).', registers });
  const answered = new Counter({
    name: 'wireprobe_fleet_answered_total',
    help: 'Final answers to the operations this member dispatched, by status: ok, refused, error.',
    labelNames: ['status'],
    registers,
  });
  const missing = new Counter({ name: 'wireprobe_fleet_missing_total', help: 'Addressed members that gave no final answer within the dispatch deadline.', registers });
  const requests = new Counter({
    name: 'wireprobe_fleet_requests_total',
    help: 'Operation requests this member received from the fleet, by outcome: run, refused (not allowed by fleet.allow, or busy), error (malformed).',
    labelNames: ['outcome'],
    registers,
  });
  for (const s of ['ok', 'refused', 'error']) answered.labels({ status: s }).inc(0);
  for (const o of ['run', 'refused', 'error']) requests.labels({ outcome: o }).inc(0);
  for (const r of ['connect', 'auth']) failures.labels({ reason: r }).inc(0);
  return {
    state(s) {
      connected.set(s === 'connected' ? 1 : 0);
      for (const x of STATES) state.labels({ state: x }).set(x === s ? 1 : 0);
    },
    connectFailure: (code) => failures.labels({ reason: code === 'FLEET_ERR_AUTH' ? 'auth' : 'connect' }).inc(),
    heartbeat: () => heartbeats.inc(),
    dispatched: (n) => dispatched.inc(n),
    answered: (status) => (status === 'missing' ? missing.inc() : answered.labels({ status }).inc()),
    request: (outcome) => requests.labels({ outcome }).inc(),
  };
}
