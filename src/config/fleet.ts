/**
 * The rules of the `fleet:` section that JSON Schema cannot express, and its build: at most one
 * credential (inline token, token file or NKEY seed file, the files read here), TLS files
 * readable, `gone_after` above the heartbeat, prefixes well formed, the default deadline within
 * the maximum, no `name` label (it is the probe_name), and a `fleet` inventory only with an
 * enabled fleet. Secrets never appear in messages.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isNetworkCidr, parseCidr } from '../lib/address.js';
import { errorMessage } from '../lib/errors.js';
import { isObj, type Obj } from '../lib/obj.js';
import type { Segment } from './errors.js';
import type { Issue } from './issue.js';
import type { RuleContext } from './rules.js';
import type { FleetConfig, FleetCredentials, FleetOperationKind } from './types.js';

/** NKEY user seeds: `SU` then base32 (58 characters in all). */
const NKEY_USER_SEED = /^SU[A-Z2-7]{56}$/;
const VISIBLE = /^[\x21-\x7e]+$/;

export interface FleetSectionResult {
  readonly errors: Issue[];
  /** the credentials read; meaningful only when `errors` is empty */
  readonly credentials: FleetCredentials;
}

/** The shape of `fleet:` after schema validation with defaults. */
export interface RawFleet {
  enabled: boolean;
  servers: string[];
  labels: Record<string, string>;
  heartbeat_interval: number;
  gone_after: number;
  connect_timeout: number;
  metrics_url?: string;
  tls?: { ca_file: string; cert_file?: string; key_file?: string };
  allow: { operations: FleetOperationKind[]; destinations: string[] };
  dispatch: { default_deadline: number; max_deadline: number; max_members: number };
}

function readSecret(path: string, at: Segment[], what: string, read: (path: string) => string): string | Issue {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    return { segments: at, message: `cannot read ${what} file ${JSON.stringify(path)}: ${errorMessage(e)}` };
  }
  const value = text.trim();
  if (value === '') return { segments: at, message: `${what} file ${JSON.stringify(path)} is empty` };
  if (!VISIBLE.test(value)) return { segments: at, message: `${what} file ${JSON.stringify(path)} must hold visible ASCII characters without spaces (the value is not shown)` };
  return value;
}

function credentialsOf(fleet: Obj, dir: string, read: (path: string) => string, out: Issue[]): FleetCredentials {
  const set = (['token', 'token_file', 'nkey_seed_file'] as const).filter((k) => fleet[k] !== undefined);
  if (set.length > 1) {
    out.push({ segments: ['fleet', set[1]!], anchor: 'key', message: `set at most one of token, token_file and nkey_seed_file (${set.join(' and ')} are set)` });
    return { kind: 'none' };
  }
  if (typeof fleet.token === 'string') {
    if (VISIBLE.test(fleet.token)) return { kind: 'token', token: fleet.token };
    out.push({ segments: ['fleet', 'token'], message: 'must be visible ASCII characters without spaces (the value is not shown)' });
    return { kind: 'none' };
  }
  if (typeof fleet.token_file === 'string') {
    const got = readSecret(resolve(dir, fleet.token_file), ['fleet', 'token_file'], 'token', read);
    if (typeof got === 'string') return { kind: 'token', token: got };
    out.push(got);
    return { kind: 'none' };
  }
  if (typeof fleet.nkey_seed_file === 'string') {
    const path = resolve(dir, fleet.nkey_seed_file);
    const got = readSecret(path, ['fleet', 'nkey_seed_file'], 'NKEY seed', read);
    if (typeof got !== 'string') {
      out.push(got);
      return { kind: 'none' };
    }
    if (NKEY_USER_SEED.test(got)) return { kind: 'nkey', seed: got };
    out.push({ segments: ['fleet', 'nkey_seed_file'], message: `${JSON.stringify(path)} does not hold an NKEY user seed (SU…, 58 characters; the value is not shown)` });
  }
  return { kind: 'none' };
}

function tlsIssues(fleet: Obj, dir: string, out: Issue[]): void {
  if (!isObj(fleet.tls)) return;
  const tls = fleet.tls;
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
    out.push({ segments: ['fleet', 'tls'], message: 'set both cert_file and key_file, or neither' });
  }
  for (const key of ['ca_file', 'cert_file', 'key_file'] as const) {
    const file = tls[key];
    if (typeof file !== 'string') continue;
    const path = resolve(dir, file);
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      out.push({ segments: ['fleet', 'tls', key], message: `cannot read ${JSON.stringify(path)}: ${errorMessage(e)}` });
    }
  }
}

function numberIssues(fleet: Obj, ctx: RuleContext, out: Issue[]): void {
  const { heartbeat_interval: hb, gone_after: gone } = fleet;
  if (typeof hb === 'number' && typeof gone === 'number' && gone <= hb && !ctx.skip(['fleet', 'gone_after'])) {
    out.push({ segments: ['fleet', 'gone_after'], message: `must be more than heartbeat_interval (${hb}); got ${gone}` });
  }
  const d = fleet.dispatch;
  if (isObj(d) && typeof d.default_deadline === 'number' && typeof d.max_deadline === 'number' && d.default_deadline > d.max_deadline) {
    out.push({ segments: ['fleet', 'dispatch', 'default_deadline'], message: `must not exceed max_deadline (${d.max_deadline}); got ${d.default_deadline}` });
  }
}

function allowIssues(fleet: Obj, out: Issue[]): void {
  if (isObj(fleet.labels) && Object.hasOwn(fleet.labels, 'name')) {
    out.push({ segments: ['fleet', 'labels', 'name'], anchor: 'key', message: 'the label `name` is the probe_name and cannot be set' });
  }
  if (!isObj(fleet.allow) || !Array.isArray(fleet.allow.destinations)) return;
  fleet.allow.destinations.forEach((p: unknown, i) => {
    if (typeof p !== 'string') return;
    const cidr = parseCidr(p);
    if (cidr === null || !isNetworkCidr(cidr)) {
      out.push({ segments: ['fleet', 'allow', 'destinations', i], message: `must be a network prefix such as 198.18.0.0/15 or 2001:db8::/32 (host bits zero); got ${JSON.stringify(p)}` });
    }
  });
}

function inventoryIssues(data: Obj, out: Issue[]): void {
  if (!Array.isArray(data.inventories)) return;
  const enabled = isObj(data.fleet) && data.fleet.enabled !== false;
  data.inventories.forEach((inv: unknown, i) => {
    if (isObj(inv) && inv.plugin === 'fleet' && !enabled) {
      out.push({ segments: ['inventories', i, 'plugin'], message: 'the fleet plugin needs an enabled fleet: section' });
    }
  });
}

/** Checks the `fleet:` section of defaulted data and reads its secret files (relative to `dir`) with `read`. */
export function checkFleetSection(data: unknown, dir: string, read: (path: string) => string, ctx: RuleContext): FleetSectionResult {
  const errors: Issue[] = [];
  if (!isObj(data)) return { errors, credentials: { kind: 'none' } };
  inventoryIssues(data, errors);
  if (!isObj(data.fleet) || ctx.skip(['fleet'])) return { errors, credentials: { kind: 'none' } };
  const credentials = credentialsOf(data.fleet, dir, read, errors);
  tlsIssues(data.fleet, dir, errors);
  numberIssues(data.fleet, ctx, errors);
  allowIssues(data.fleet, errors);
  return { errors, credentials };
}

export function buildFleet(raw: RawFleet, credentials: FleetCredentials, file: string): FleetConfig {
  const dir = dirname(file);
  return {
    enabled: raw.enabled,
    servers: [...raw.servers],
    labels: { ...raw.labels },
    heartbeat_interval: raw.heartbeat_interval,
    gone_after: raw.gone_after,
    connect_timeout: raw.connect_timeout,
    metrics_url: raw.metrics_url ?? null,
    credentials,
    tls: raw.tls === undefined
      ? null
      : {
          ca_file: resolve(dir, raw.tls.ca_file),
          cert_file: raw.tls.cert_file === undefined ? null : resolve(dir, raw.tls.cert_file),
          key_file: raw.tls.key_file === undefined ? null : resolve(dir, raw.tls.key_file),
        },
    allow: { operations: [...raw.allow.operations], destinations: [...raw.allow.destinations] },
    dispatch: { ...raw.dispatch },
  };
}
