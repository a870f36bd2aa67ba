/**
 * Builds the typed, frozen Config from data that passed the schema (defaults applied) and the
 * semantic checks. Fills the defaults that depend on other values: description, address
 * family, per-target DNS interval, and the nulls for absent optional values.
 */
import { dirname, resolve } from 'node:path';
import { ipFamily } from '../lib/address.js';
import { buildChecks } from './build-checks.js';
import { buildFlows, type RawFlows } from './flows.js';
import { parsePrefix } from './operations.js';
import { buildFleet, type RawFleet } from './fleet.js';
import { parseDestinationRange } from './subnet.js';
import { deepFreeze } from '../lib/freeze.js';
import type {
  AddressFamily,
  AlertLevel,
  CheckInstanceConfig,
  CheckKindName,
  ApiConfig,
  ApiToken,
  Config,
  FleetCredentials,
  GlobalConfig,
  GroupConfig,
  InventoryConfig,
  OperationsConfig,
  PrefixConfig,
  ProbeType,
  TargetConfig,
  ThresholdConfig,
  ToolsConfig,
} from './types.js';

/** The shape of the data after schema validation with defaults (see schema/config.schema.json). */
export interface RawConfig {
  global: GlobalConfig;
  groups: Record<string, RawGroup>;
  targets: Record<string, RawTarget>;
  checks: Record<CheckKindName, CheckInstanceConfig[]>;
  inventories: InventoryConfig[];
  api?: RawApi;
  flows?: RawFlows;
  /** defaulted by the schema; absent only in raw configs built by hand */
  tools?: ToolsConfig;
  operations?: RawOperations;
  fleet?: RawFleet;
}

interface RawOperations {
  enabled: boolean;
  max_concurrent: number;
  max_packets: number;
  max_duration: number;
  rate: { per_minute: number; burst: number };
  allow: string[];
  deny: string[];
  keep_for: number;
  keep_count: number;
}

interface RawApi {
  enabled: boolean;
  max_targets: number;
  state_file?: string;
  body_limit_bytes: number;
  default_lifetime?: number;
  max_lifetime: number;
  default_groups?: string[];
}

interface RawGroup {
  src_ip?: string;
  src_ipv4?: string;
  src_ipv6?: string;
  src_subnet_ipv4?: string;
  src_subnet_ipv6?: string;
  src_port_a: number;
  src_port_z: number;
  ip_payload_size?: number;
  dscp: number;
  permit_target_auto_register: boolean;
}

export interface RawTarget {
  description?: string;
  type: ProbeType;
  destination: string;
  address_family?: AddressFamily;
  dont_fragment: boolean;
  is_subnet: boolean;
  per_host_metrics: boolean;
  dst_port?: number;
  nb_packets: number;
  ip_payload_size?: number;
  threshold: ThresholdConfig;
  alert_level: AlertLevel;
  state?: 'in production' | 'validation';
  timeout: number;
  dns_update_interval?: number;
  auto_register_to_groups: boolean;
  explicit_groups: { register_to: string[]; exclude_from: string[] };
}


function buildGroup(name: string, g: RawGroup): GroupConfig {
  return {
    name,
    src_ipv4: g.src_ipv4 ?? g.src_ip ?? null,
    src_ipv6: g.src_ipv6 ?? null,
    src_subnet_ipv4: g.src_subnet_ipv4 ?? null,
    src_subnet_ipv6: g.src_subnet_ipv6 ?? null,
    src_port_a: g.src_port_a,
    src_port_z: g.src_port_z,
    ip_payload_size: g.ip_payload_size ?? null,
    dscp: g.dscp,
    permit_target_auto_register: g.permit_target_auto_register,
  };
}

/** Explicit value, else the family of an address or network destination, else ipv4. */
function detectFamily(t: RawTarget): AddressFamily {
  if (t.address_family !== undefined) return t.address_family;
  const family = t.is_subnet ? parseDestinationRange(t.destination)?.family : ipFamily(t.destination);
  return family ?? 'ipv4';
}

export function buildTarget(name: string, t: RawTarget, global: GlobalConfig): TargetConfig {
  return {
    name,
    description: t.description ?? name,
    type: t.type,
    destination: t.destination,
    address_family: detectFamily(t),
    dont_fragment: t.dont_fragment,
    is_subnet: t.is_subnet,
    per_host_metrics: t.per_host_metrics,
    dst_port: t.dst_port ?? null,
    nb_packets: t.nb_packets,
    ip_payload_size: t.ip_payload_size ?? null,
    threshold: { ...t.threshold },
    alert_level: t.alert_level,
    state: t.state ?? null,
    timeout: t.timeout,
    dns_update_interval: t.dns_update_interval ?? global.dns_update_interval,
    auto_register_to_groups: t.auto_register_to_groups,
    explicit_groups: {
      register_to: [...t.explicit_groups.register_to],
      exclude_from: [...t.explicit_groups.exclude_from],
    },
  };
}

function buildApi(raw: RawApi, tokens: readonly ApiToken[], file: string): ApiConfig {
  return {
    enabled: raw.enabled,
    tokens: tokens.map((t) => ({ ...t })),
    max_targets: raw.max_targets,
    state_file: raw.state_file === undefined ? null : resolve(dirname(file), raw.state_file),
    body_limit_bytes: raw.body_limit_bytes,
    default_lifetime: raw.default_lifetime ?? raw.max_lifetime,
    max_lifetime: raw.max_lifetime,
    default_groups: raw.default_groups === undefined ? null : [...raw.default_groups],
  };
}

/**
 * `apiTokens`: the `api.tokens` as read by config/api.ts (token files resolved); `postgresUrl`:
 * the `flows.postgres` URL as read by config/flows.ts.
 */
/** Prefixes already checked by config/operations.ts. */
function prefixes(list: readonly string[]): PrefixConfig[] {
  return list.map((text) => parsePrefix(text) as PrefixConfig);
}

function buildOperations(raw: RawOperations): OperationsConfig {
  return { ...raw, rate: { ...raw.rate }, allow: prefixes(raw.allow), deny: prefixes(raw.deny) };
}

export function buildConfig(
  raw: RawConfig,
  file: string,
  apiTokens: readonly ApiToken[] = [],
  postgresUrl: string | null = null,
  fleetCredentials: FleetCredentials = { kind: 'none' },
): Config {
  const global: GlobalConfig = {
    ...raw.global,
    percentile: [...raw.global.percentile],
    rtt_buckets: [...raw.global.rtt_buckets],
    disable_dynamic_inventories: [...raw.global.disable_dynamic_inventories],
  };
  const groups = Object.fromEntries(Object.entries(raw.groups).map(([n, g]) => [n, buildGroup(n, g)]));
  const targets = Object.fromEntries(Object.entries(raw.targets).map(([n, t]) => [n, buildTarget(n, t, global)]));
  const checks = buildChecks(raw.checks);
  const inventories = JSON.parse(JSON.stringify(raw.inventories)) as InventoryConfig[];
  const api = raw.api === undefined ? {} : { api: buildApi(raw.api, apiTokens, file) };
  const flows = raw.flows === undefined ? {} : { flows: buildFlows(raw.flows, file, postgresUrl) };
  const tools = raw.tools === undefined ? {} : { tools: JSON.parse(JSON.stringify(raw.tools)) as ToolsConfig };
  const operations = raw.operations === undefined ? {} : { operations: buildOperations(raw.operations) };
  const fleet = raw.fleet === undefined ? {} : { fleet: buildFleet(raw.fleet, fleetCredentials, file) };
  return deepFreeze({ file, global, groups, targets, checks, inventories, ...api, ...flows, ...tools, ...operations, ...fleet });
}
