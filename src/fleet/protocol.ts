/**
 * The fleet's wire format on NATS. Membership lives in the JetStream key-value bucket
 * MEMBERS_BUCKET (key: the probe_name, value: a MemberRecord put on every heartbeat). A dispatch
 * is one FleetRequest published to each addressed member's subject `wireprobe.fleet.op.<name>`
 * with a reply inbox; the member streams FleetReply messages to that inbox: `accepted`, then
 * `event`s, then one `result`, `refused` or `error`. Every message is JSON, bounded in size.
 */
import type { FleetOperationKind } from '../config/types.js';
import { isObj } from '../lib/obj.js';
import type { CheckOutcomeJson } from './checks.js';
import type { OperationEvent, OperationResult } from '../operations/types.js';
import { parseOperation, type FleetOperation } from './spec.js';

export const MEMBERS_BUCKET = 'wireprobe-members';
/** how long the members bucket keeps a record nobody refreshes (gone members are hidden long before) */
export const MEMBERS_BUCKET_TTL_MS = 24 * 3600 * 1000;
export const opSubject = (member: string): string => `wireprobe.fleet.op.${member}`;
/** largest message decoded */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface MemberRecord {
  readonly name: string;
  /** with `name` */
  readonly labels: Readonly<Record<string, string>>;
  readonly version: string;
  /** `host:port` Prometheus scrapes */
  readonly metrics: string;
  /** wall-clock ms of the last heartbeat */
  readonly heartbeatMs: number;
  readonly heartbeatS: number;
  /** seconds without heartbeat after which the member is gone */
  readonly goneAfterS: number;
  readonly startedMs: number;
  readonly operations: readonly FleetOperationKind[];
}

export interface FleetRequest {
  readonly id: string;
  /** who asked: `<member>/api`, `<member>/cli`, ... (logged by the member) */
  readonly origin: string;
  readonly operation: FleetOperation;
  /** ms the member may take */
  readonly deadlineMs: number;
}

/** A reply's body, before the request id and the member name are added. */
export type ReplyBody =
  | { readonly type: 'accepted' }
  | { readonly type: 'event'; readonly event: OperationEvent }
  | { readonly type: 'result'; readonly result: OperationResult | CheckOutcomeJson }
  | { readonly type: 'refused' | 'error'; readonly code: string; readonly message: string };

export type FleetReply = ReplyBody & { readonly id: string; readonly member: string };

const decoder = new TextDecoder();

export function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** JSON of a message, or null when it is too large or not JSON. */
export function decode(data: Uint8Array): unknown {
  if (data.length > MAX_MESSAGE_BYTES) return null;
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    return null;
  }
}

const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** A request as received; throws a FLEET_ERR_REQUEST AppError on a bad operation, null when not a request at all. */
export function parseRequest(value: unknown): FleetRequest | null {
  if (!isObj(value) || !str(value.id, 64) || !str(value.origin, 256) || typeof value.deadlineMs !== 'number') return null;
  if (!Number.isFinite(value.deadlineMs) || value.deadlineMs <= 0 || value.deadlineMs > 3_600_000) return null;
  return { id: value.id, origin: value.origin, deadlineMs: value.deadlineMs, operation: parseOperation(value.operation) };
}

/** A member record as read from the bucket; null when malformed. */
export function parseMember(value: unknown): MemberRecord | null {
  if (!isObj(value) || !str(value.name, 256) || !isObj(value.labels) || typeof value.heartbeatMs !== 'number' || typeof value.goneAfterS !== 'number') return null;
  const labels = Object.fromEntries(Object.entries(value.labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return {
    name: value.name,
    labels,
    version: typeof value.version === 'string' ? value.version : '',
    metrics: typeof value.metrics === 'string' ? value.metrics : '',
    heartbeatMs: value.heartbeatMs,
    heartbeatS: typeof value.heartbeatS === 'number' ? value.heartbeatS : 0,
    goneAfterS: value.goneAfterS,
    startedMs: typeof value.startedMs === 'number' ? value.startedMs : 0,
    operations: Array.isArray(value.operations) ? value.operations.filter((o): o is FleetOperationKind => typeof o === 'string') : [],
  };
}

/** A reply as received by a dispatcher; null when malformed. */
export function parseReply(value: unknown): FleetReply | null {
  if (!isObj(value) || !str(value.id, 64) || !str(value.member, 256) || typeof value.type !== 'string') return null;
  switch (value.type) {
    case 'accepted':
      return { id: value.id, member: value.member, type: 'accepted' };
    case 'event':
      return isObj(value.event) ? { id: value.id, member: value.member, type: 'event', event: value.event as OperationEvent } : null;
    case 'result':
      return isObj(value.result) ? { id: value.id, member: value.member, type: 'result', result: value.result as unknown as OperationResult } : null;
    case 'refused':
    case 'error':
      return { id: value.id, member: value.member, type: value.type, code: String(value.code), message: String(value.message) };
    default:
      return null;
  }
}

/** Whether the member is alive at `nowMs` (its own gone_after since its last heartbeat). */
export const isLive = (m: MemberRecord, nowMs: number): boolean => nowMs - m.heartbeatMs <= m.goneAfterS * 1000;
