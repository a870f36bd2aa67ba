/**
 * Fleet operation requests: what a dispatcher sends and what a member accepts, checked field by
 * field with bounds (the request comes from the network). Options left out get defaults. Pure.
 */
import type { CheckKindName, FleetOperationKind } from '../config/types.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import { isObj, type Obj } from '../lib/obj.js';
import type { OperationProtocol, OperationSpec } from '../operations/types.js';

export type FleetOperation =
  | { readonly kind: 'ping' | 'traceroute' | 'mtr'; readonly spec: OperationSpec }
  /** one run of a host check instance of the member's own config */
  | { readonly kind: 'check'; readonly check: CheckKindName; readonly name: string };

const CHECK_KINDS: readonly CheckKindName[] = ['routes', 'processes', 'dhcp', 'conntrack'];
const PROTOCOLS: readonly OperationProtocol[] = ['icmp', 'tcp', 'udp'];
const NAME = /^[a-z0-9_\-.]{1,128}$/;

const bad = (message: string): AppError => new AppError(ErrorCodes.FLEET_ERR_REQUEST, message);

function num(o: Obj, key: string, def: number, min: number, max: number, integer: boolean): number {
  const v = o[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw bad(`${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

function bool(o: Obj, key: string, def: boolean): boolean {
  const v = o[key] ?? def;
  if (typeof v !== 'boolean') throw bad(`${key} must be true or false`);
  return v;
}

function optional<T>(o: Obj, key: string, read: () => T): { [k: string]: T } {
  return o[key] === undefined ? {} : { [key]: read() };
}

/** The operation spec of a ping, traceroute or mtr request, defaults filled in. */
export function operationSpec(kind: 'ping' | 'traceroute' | 'mtr', o: Obj): OperationSpec {
  const destination = o.destination;
  if (typeof destination !== 'string' || destination.length === 0 || destination.length > 253) throw bad('destination must be an address or a name (1 to 253 characters)');
  const protocol = o.protocol ?? 'icmp';
  if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol as OperationProtocol)) throw bad('protocol must be icmp, tcp or udp');
  const base = {
    destination,
    protocol: protocol as OperationProtocol,
    size: num(o, 'size', 56, 0, 1400, true),
    dscp: num(o, 'dscp', 0, 0, 63, true),
    timeout: num(o, 'timeout', 1, 0.05, 10, false),
    ...optional(o, 'family', () => {
      if (o.family !== 4 && o.family !== 6) throw bad('family must be 4 or 6');
      return o.family;
    }),
    ...optional(o, 'port', () => num(o, 'port', 0, 1, 65535, true)),
    ...optional(o, 'source', () => {
      if (typeof o.source !== 'string' || o.source.length > 64) throw bad('source must be an address');
      return o.source;
    }),
  } as const;
  switch (kind) {
    case 'ping':
      return { ...base, kind, count: num(o, 'count', 5, 1, 1000, true), interval: num(o, 'interval', 1, 0.01, 60, false) };
    case 'traceroute':
      return {
        ...base, kind,
        maxHops: num(o, 'maxHops', 30, 1, 64, true),
        queries: num(o, 'queries', 3, 1, 10, true),
        paths: num(o, 'paths', 1, 1, 16, true),
        resolve: bool(o, 'resolve', false),
        asn: bool(o, 'asn', false),
      };
    case 'mtr':
      return {
        ...base, kind,
        maxHops: num(o, 'maxHops', 30, 1, 64, true),
        cycles: num(o, 'cycles', 10, 1, 1000, true),
        interval: num(o, 'interval', 1, 0.01, 60, false),
        resolve: bool(o, 'resolve', false),
        asn: bool(o, 'asn', false),
      };
  }
}

/** A request's operation, checked: `{kind, ...spec}` or `{kind: 'check', check, name}`. */
export function parseOperation(value: unknown): FleetOperation {
  if (!isObj(value)) throw bad('operation must be an object');
  const kind = value.kind;
  if (kind === 'check') {
    const { check, name } = value;
    if (typeof check !== 'string' || !CHECK_KINDS.includes(check as CheckKindName)) throw bad(`check must be one of ${CHECK_KINDS.join(', ')}`);
    if (typeof name !== 'string' || !NAME.test(name)) throw bad('name must be a check instance name');
    return { kind, check: check as CheckKindName, name };
  }
  if (kind !== 'ping' && kind !== 'traceroute' && kind !== 'mtr') throw bad('kind must be ping, traceroute, mtr or check');
  return { kind, spec: operationSpec(kind, isObj(value.spec) ? value.spec : value) };
}

/** The kind, and the destination a policy checks (null for a check). */
export function describeOperation(op: FleetOperation): { kind: FleetOperationKind; destination: string | null } {
  return op.kind === 'check' ? { kind: 'check', destination: null } : { kind: op.kind, destination: op.spec.destination };
}
