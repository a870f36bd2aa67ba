/**
 * The dispatcher side: one request to each addressed member, replies collected on one inbox,
 * per member streamed to `onReply` as they come. The dispatch ends when every member has given
 * its final answer or at the deadline, whichever is first: members without a final answer then
 * are reported `missing` (never waited for longer). Members are told a slightly shorter deadline
 * so that their own final answer can still arrive in time.
 */
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { decode, encode, opSubject, parseReply, type FleetReply, type FleetRequest, type MemberRecord } from './protocol.js';
import type { FleetOperation } from './spec.js';

export type MemberStatus = 'ok' | 'refused' | 'error' | 'missing';

export interface MemberOutcome {
  readonly member: string;
  readonly status: MemberStatus;
  /** the member said it started */
  readonly accepted: boolean;
  readonly result?: unknown;
  readonly code?: string;
  readonly message?: string;
  /** ms from the request to the final answer; null when missing */
  readonly latencyMs: number | null;
}

export interface DispatchReport {
  readonly id: string;
  readonly operation: FleetOperation;
  readonly deadlineMs: number;
  readonly elapsedMs: number;
  readonly members: readonly MemberOutcome[];
}

export interface DispatchOptions {
  readonly members: readonly MemberRecord[];
  readonly operation: FleetOperation;
  readonly deadlineMs: number;
  readonly origin: string;
  readonly clock: Clock;
  /** every reply as it arrives (events included) */
  onReply?(reply: FleetReply): void;
  /** aborting ends the dispatch early: members without a final answer are missing */
  readonly signal?: AbortSignal;
}

/** The deadline a member is given: up to 1 s less than the dispatcher's, so its answer arrives in time. */
export const memberDeadlineMs = (deadlineMs: number): number => deadlineMs - Math.min(1000, deadlineMs / 10);

export async function dispatch(nc: NatsConnection, opts: DispatchOptions): Promise<DispatchReport> {
  const { clock } = opts;
  const id = randomUUID();
  const started = clock.monoMs();
  const finals = new Map<string, MemberOutcome>();
  const accepted = new Set<string>();
  const wanted = new Set(opts.members.map((m) => m.name));
  const inbox = createInbox();
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { done = resolve; });

  const sub = nc.subscribe(inbox, {
    callback: (err, msg) => {
      if (err !== null) return;
      const reply = parseReply(decode(msg.data));
      if (reply === null || reply.id !== id || !wanted.has(reply.member) || finals.has(reply.member)) return;
      opts.onReply?.(reply);
      const latencyMs = clock.monoMs() - started;
      switch (reply.type) {
        case 'accepted':
          accepted.add(reply.member);
          return;
        case 'event':
          return;
        case 'result':
          finals.set(reply.member, { member: reply.member, status: 'ok', accepted: true, result: reply.result, latencyMs });
          break;
        case 'refused':
        case 'error':
          finals.set(reply.member, { member: reply.member, status: reply.type, accepted: accepted.has(reply.member), code: reply.code, message: reply.message, latencyMs });
          break;
      }
      if (finals.size === wanted.size) done();
    },
  });
  let timer: TimerHandle | null = null;
  try {
    const request: FleetRequest = { id, origin: opts.origin, operation: opts.operation, deadlineMs: memberDeadlineMs(opts.deadlineMs) };
    const body = encode(request);
    for (const name of wanted) nc.publish(opSubject(name), body, { reply: inbox });
    if (wanted.size === 0) done();
    timer = clock.setTimer(opts.deadlineMs, done);
    opts.signal?.addEventListener('abort', done, { once: true });
    await finished;
  } finally {
    timer?.cancel();
    opts.signal?.removeEventListener('abort', done);
    sub.unsubscribe();
  }
  const members = [...wanted].sort().map((name): MemberOutcome =>
    finals.get(name) ?? {
      member: name,
      status: 'missing',
      accepted: accepted.has(name),
      message: accepted.has(name) ? 'accepted but no result within the deadline' : 'no answer within the deadline',
      latencyMs: null,
    });
  return { id, operation: opts.operation, deadlineMs: opts.deadlineMs, elapsedMs: clock.monoMs() - started, members };
}
