/**
 * Operation requests: the JSON schema of a ping, traceroute or mtr request (every number
 * bounded, no unknown key), the defaults of omitted fields, the checks JSON Schema cannot
 * express, and what a spec costs before it runs (probes sent, least duration). Pure; the API,
 * the status page and the fleet validate requests through `createSpecValidator()`.
 * schema/openapi.yaml holds a copy of SPEC_SCHEMAS (test/unit/operations/spec.test.ts keeps them equal).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { EntryProblem } from '../config/entries.js';
import { ipFamily, isHostname } from '../lib/address.js';
import type { OperationKind, OperationSpec } from './types.js';

type Json = Readonly<Record<string, unknown>>;

const int = (minimum: number, maximum: number, def: number | undefined, description: string): Json =>
  ({ type: 'integer', minimum, maximum, ...(def === undefined ? {} : { default: def }), description });
const num = (minimum: number, maximum: number, def: number, description: string): Json =>
  ({ type: 'number', minimum, maximum, default: def, description });
const bool = (def: boolean, description: string): Json => ({ type: 'boolean', default: def, description });

const COMMON: Json = {
  destination: { type: 'string', minLength: 1, maxLength: 253, description: 'IPv4 or IPv6 address, or a name resolved once (its address is checked and probed)' },
  protocol: { type: 'string', enum: ['icmp', 'tcp', 'udp'], default: 'icmp', description: 'icmp: echo; tcp: SYN; udp: to a closed port' },
  family: { type: 'integer', enum: [4, 6], description: 'address family of a name; absent: IPv4, else IPv6' },
  port: int(1, 65535, undefined, 'destination port of tcp and udp (default tcp 80, udp 33434); not for icmp'),
  size: int(0, 9000, undefined, 'IP payload bytes beyond the protocol header (default icmp 56, tcp 0, udp 32)'),
  dscp: int(0, 63, 0, 'DSCP of the probes'),
  source: { type: 'string', minLength: 2, maxLength: 45, description: 'source address, one of this host\'s; absent: the route\'s' },
  timeout: num(0.1, 30, 2, 'seconds to wait for each answer'),
};

const RESOLVE = bool(true, 'reverse DNS of hops');
const ASN = bool(false, 'AS number of hops');
const MAX_HOPS = int(1, 64, 30, 'highest TTL');

const kindSchema = (kind: OperationKind, extra: Json): Json => ({
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'destination'],
  properties: { kind: { const: kind }, ...COMMON, ...extra },
});

/** The request schema of each kind (JSON Schema 2020-12). */
export const SPEC_SCHEMAS: Readonly<Record<OperationKind, Json>> = {
  ping: kindSchema('ping', {
    count: int(1, 10000, 5, 'probes sent'),
    interval: num(0.2, 60, 1, 'seconds between probes'),
  }),
  traceroute: kindSchema('traceroute', {
    maxHops: MAX_HOPS,
    queries: int(1, 10, 3, 'probes per hop'),
    paths: int(1, 32, 1, 'flow identifiers tried (ECMP paths); 1: one Paris-traceroute path'),
    resolve: RESOLVE,
    asn: ASN,
  }),
  mtr: kindSchema('mtr', {
    maxHops: MAX_HOPS,
    cycles: int(1, 1000, 10, 'rounds over every hop'),
    interval: num(0.2, 60, 1, 'seconds between rounds'),
    resolve: RESOLVE,
    asn: ASN,
  }),
};

export const OPERATION_KINDS: readonly OperationKind[] = ['ping', 'traceroute', 'mtr'];

const isKind = (k: unknown): k is OperationKind => typeof k === 'string' && (OPERATION_KINDS as readonly string[]).includes(k);

const DEFAULT_PORT = { tcp: 80, udp: 33434 } as const;
const DEFAULT_SIZE = { icmp: 56, tcp: 0, udp: 32 } as const;

export type SpecCheck = { readonly ok: true; readonly spec: OperationSpec } | { readonly ok: false; readonly problems: readonly EntryProblem[] };

function problemOf(e: ErrorObject): EntryProblem {
  const path = e.instancePath.split('/').slice(1).join('.');
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: unknown }).additionalProperty);
      return { path: path === '' ? key : `${path}.${key}`, message: 'unknown key' };
    }
    case 'required': {
      const key = String((e.params as { missingProperty: unknown }).missingProperty);
      return { path: key, message: 'is required' };
    }
    case 'enum':
      return { path, message: `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path, message: e.message ?? 'is not valid' };
  }
}

/** What JSON Schema cannot say: address syntax, port only for tcp/udp, families that agree. */
function semanticProblems(spec: OperationSpec): EntryProblem[] {
  const problems: EntryProblem[] = [];
  const destFamily = ipFamily(spec.destination);
  if (destFamily === null && !isHostname(spec.destination)) problems.push({ path: 'destination', message: 'must be an IPv4 or IPv6 address or a host name' });
  if (destFamily !== null && spec.family !== undefined && destFamily !== `ipv${spec.family}`) {
    problems.push({ path: 'family', message: `does not match the destination address (${destFamily})` });
  }
  if (spec.protocol === 'icmp' && spec.port !== undefined) problems.push({ path: 'port', message: 'only for the tcp and udp protocols' });
  if (spec.source !== undefined) {
    const srcFamily = ipFamily(spec.source);
    if (srcFamily === null) problems.push({ path: 'source', message: 'must be an IPv4 or IPv6 address' });
    else if (destFamily !== null && srcFamily !== destFamily) problems.push({ path: 'source', message: `is ${srcFamily}, the destination is ${destFamily}` });
    else if (spec.family !== undefined && srcFamily !== `ipv${spec.family}`) problems.push({ path: 'source', message: `is ${srcFamily}, family is ${spec.family}` });
  }
  return problems;
}

/** Checks a request body and fills its defaults (a new object; the body is not changed). */
export type SpecValidator = (body: unknown) => SpecCheck;

export function createSpecValidator(): SpecValidator {
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true });
  const validators = Object.fromEntries(OPERATION_KINDS.map((k) => [k, ajv.compile(SPEC_SCHEMAS[k])])) as Record<OperationKind, ValidateFunction>;
  return (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problems: [{ path: '', message: 'must be a JSON object' }] };
    const kind = (body as Json).kind;
    if (!isKind(kind)) return { ok: false, problems: [{ path: 'kind', message: `must be one of ${OPERATION_KINDS.join(', ')}` }] };
    const copy = structuredClone(body) as Record<string, unknown>;
    const validate = validators[kind];
    if (!validate(copy)) return { ok: false, problems: (validate.errors ?? []).map(problemOf) };
    const protocol = copy.protocol as keyof typeof DEFAULT_SIZE;
    if (protocol !== 'icmp') copy.port ??= DEFAULT_PORT[protocol];
    copy.size ??= DEFAULT_SIZE[protocol];
    const spec = copy as unknown as OperationSpec;
    const problems = semanticProblems(spec);
    return problems.length > 0 ? { ok: false, problems } : { ok: true, spec };
  };
}

/** Probes the spec sends at most: ping `count`; traceroute `maxHops × queries × paths`; mtr `maxHops × cycles`. */
export function packetBudget(spec: OperationSpec): number {
  switch (spec.kind) {
    case 'ping':
      return spec.count;
    case 'traceroute':
      return spec.maxHops * spec.queries * spec.paths;
    case 'mtr':
      return spec.maxHops * spec.cycles;
  }
}

/** Seconds the spec takes at least (ping, mtr: its probes' or rounds' spacing plus the last wait); null when it depends on the path (traceroute). */
export function leastDuration(spec: OperationSpec): number | null {
  switch (spec.kind) {
    case 'ping':
      return (spec.count - 1) * spec.interval + spec.timeout;
    case 'mtr':
      return (spec.cycles - 1) * spec.interval + spec.timeout;
    case 'traceroute':
      return null;
  }
}
