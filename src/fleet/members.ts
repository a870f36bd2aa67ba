/**
 * Membership on the JetStream key-value bucket MEMBERS_BUCKET: each member puts its record under
 * its name on every heartbeat (and deletes it when it stops cleanly); everyone follows the bucket
 * with a watch, so the member list is known at once, without a round of questions. A member
 * whose last heartbeat is older than its own `gone_after` is gone; the bucket forgets records
 * after MEMBERS_BUCKET_TTL_MS.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Session } from './connection.js';
import { decode, encode, isLive, MEMBERS_BUCKET, MEMBERS_BUCKET_TTL_MS, parseMember, type MemberRecord } from './protocol.js';

export function openMembersBucket(nc: NatsConnection): Promise<KV> {
  return new Kvm(nc).create(MEMBERS_BUCKET, { history: 1, ttl: MEMBERS_BUCKET_TTL_MS });
}

/** Every record of the bucket (live or gone), for the CLI. */
export async function readMembers(kv: KV): Promise<MemberRecord[]> {
  // a key updated while the listing runs can be listed twice
  const keys = new Set<string>();
  for await (const key of await kv.keys()) keys.add(key);
  const entries = await Promise.all([...keys].map((k) => kv.get(k)));
  const out = entries.flatMap((entry) => {
    const m = entry === null || entry.operation !== 'PUT' ? null : parseMember(decode(entry.value));
    return m === null ? [] : [m];
  });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface MemberDirectory {
  /** every known record, gone ones included */
  all(): readonly MemberRecord[];
  live(nowMs: number): readonly MemberRecord[];
  /** follows the bucket while a connection lasts */
  readonly session: Session;
}

export function createMemberDirectory(log: Logger): MemberDirectory {
  const members = new Map<string, MemberRecord>();
  return {
    all: () => [...members.values()],
    live: (nowMs) => [...members.values()].filter((m) => isLive(m, nowMs)),
    session(nc) {
      let stop: (() => void) | null = null;
      let closed = false;
      void (async () => {
        const kv = await openMembersBucket(nc);
        const watch = await kv.watch();
        stop = () => watch.stop();
        if (closed) watch.stop();
        for await (const e of watch) {
          if (e.operation !== 'PUT') {
            members.delete(e.key);
            continue;
          }
          const m = parseMember(decode(e.value));
          if (m !== null && m.name === e.key) members.set(e.key, m);
        }
      })().catch((e: unknown) => {
        if (!closed) log.warn('fleet: cannot follow the members bucket', { error: errorMessage(e) });
      });
      return () => {
        closed = true;
        stop?.();
      };
    },
  };
}

export interface HeartbeatDeps {
  readonly record: () => MemberRecord;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  onHeartbeat(): void;
}

/** Puts this member's record at once and every interval while the connection lasts. */
export function heartbeatSession(deps: HeartbeatDeps): Session {
  return (nc) => {
    let timer: TimerHandle | null = null;
    let closed = false;
    let kv: KV | null = null;
    let failing = false;
    const beat = async (): Promise<void> => {
      try {
        kv ??= await openMembersBucket(nc);
        const record = deps.record();
        await kv.put(record.name, encode(record));
        deps.onHeartbeat();
        if (failing) deps.log.info('fleet: heartbeats recovered');
        failing = false;
      } catch (e) {
        if (!failing && !closed) deps.log.warn('fleet: heartbeat failed', { error: errorMessage(e) });
        failing = true;
      }
    };
    const tick = (): void => {
      if (closed) return;
      void beat().finally(() => {
        if (!closed) timer = deps.clock.setTimer(deps.intervalMs, tick);
      });
    };
    tick();
    return () => {
      closed = true;
      timer?.cancel();
    };
  };
}
