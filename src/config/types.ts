/**
 * The validated, defaulted, frozen configuration. Produced only by config/load.ts from
 * schema/config.schema.json; downstream code never sees raw YAML and never checks for
 * missing defaults.
 */
import type { AddressFamily } from '../lib/address.js';
import type schema from '../../schema/config.schema.json';

export type { AddressFamily };
/** the name of a probe type of the registry (src/probes/index.ts); the schema's enum is tested against it */
export type ProbeType = string;
export type NetprobifyLogLevel = 'CRITICAL' | 'ERROR' | 'WARNING' | 'INFO' | 'DEBUG' | 'NOTSET';
export type AlertLevel = 'paging' | 'paging_validation' | 'sandbox' | 'no_alert';

export interface GlobalConfig {
  readonly probe_name: string;
  /** seconds between round starts */
  readonly interval: number;
  /** seconds between two packets of one target in one round (0: paced by the engine) */
  readonly interval_packets: number;
  /** accepted for netprobify compatibility; wireprobe runs one engine, not processes */
  readonly nb_proc: number;
  readonly verbose: 0 | 1;
  readonly logging_level: NetprobifyLogLevel;
  readonly prometheus_port: number;
  readonly prometheus_address: string;
  /** seconds; 0 = re-resolve every round (netprobify's behaviour) */
  readonly dns_update_interval: number;
  /** seconds; 0 = no periodic reload */
  readonly reload_conf_interval: number;
  /** accepted for compatibility; wireprobe always uses L3 raw sockets */
  readonly l3_raw_socket: boolean;
  /** seconds: upper bound on one target's round (send + wait) */
  readonly timeout: number;
  readonly percentile: readonly number[];
  readonly disable_dynamic_inventories: readonly string[];
  /** addresses, over all per_host_metrics targets, allowed per-host series */
  readonly per_host_series_limit: number;
  /** seconds to receive a request's headers (HTTP server) */
  readonly http_header_timeout: number;
  /** seconds to receive a whole request, body included (HTTP server) */
  readonly http_request_timeout: number;
  /** most simultaneous connections to the HTTP server */
  readonly http_max_connections: number;
  /** upper bounds (s, ascending) of the per-target RTT histogram buckets, +Inf implied; read at start */
  readonly rtt_buckets: readonly number[];
  /** admission control: event-loop lag (s) above which the engine sends less */
  readonly max_event_loop_lag: number;
  /** admission control: fixed ceiling of probes sent per second; 0 = none */
  readonly max_probe_rate: number;
}

export interface GroupConfig {
  readonly name: string;
  readonly src_ipv4: string | null;
  readonly src_ipv6: string | null;
  readonly src_subnet_ipv4: string | null;
  readonly src_subnet_ipv6: string | null;
  readonly src_port_a: number;
  readonly src_port_z: number;
  readonly ip_payload_size: number | null;
  readonly dscp: number;
  readonly permit_target_auto_register: boolean;
}

export interface ThresholdConfig {
  readonly latency?: number;
  readonly loss?: number;
}

export interface TargetConfig {
  readonly name: string;
  readonly description: string;
  readonly type: ProbeType;
  readonly destination: string;
  /** explicit or auto-detected (IP literal → its family; otherwise ipv4) */
  readonly address_family: AddressFamily;
  readonly dont_fragment: boolean;
  readonly is_subnet: boolean;
  /** export sent/loss/last RTT per address of an is_subnet target */
  readonly per_host_metrics: boolean;
  readonly dst_port: number | null;
  readonly nb_packets: number;
  readonly ip_payload_size: number | null;
  readonly threshold: ThresholdConfig;
  readonly alert_level: AlertLevel;
  /** null is exported as the label value "None" (netprobify formatting) */
  readonly state: 'in production' | 'validation' | null;
  /** seconds to wait for replies after the target's last packet */
  readonly timeout: number;
  /** seconds; defaults to global.dns_update_interval */
  readonly dns_update_interval: number;
  readonly auto_register_to_groups: boolean;
  readonly explicit_groups: {
    readonly register_to: readonly string[];
    readonly exclude_from: readonly string[];
  };
}

/** The schema's type, for the names it declares (tsc reads the keys of the JSON file). */
type Schema = typeof schema;

/** Host check kinds, as they appear under `checks:` (the schema's keys) and in the `check` label. */
export type CheckKindName = keyof Schema['properties']['checks']['properties'];

/** The option keys `#/$defs/check_<kind>` of the schema allows (a unit test matches each kind's options type to them). */
export type CheckSchemaProperties<K extends CheckKindName> = Schema['$defs'][`check_${K}`]['properties'];

/** A command run (no shell) when a check instance goes from success to failure. */
export interface CheckActionConfig {
  readonly exec: readonly string[];
  /** seconds */
  readonly timeout: number;
}

/**
 * One check instance: the common keys, typed; the kind's own keys are narrowed by the kind
 * (`#/$defs/check_<kind>` has validated and defaulted them).
 */
export interface CheckInstanceConfig {
  readonly name: string;
  readonly enabled: boolean;
  /** seconds between two runs */
  readonly interval: number;
  /** seconds one run may take */
  readonly timeout: number;
  readonly on_failure: readonly CheckActionConfig[];
  readonly [key: string]: unknown;
}
/** Options of each inventory plugin (schema/config.schema.json `$defs/inventory_options_*`). */
export interface InventoryPluginOptions {
  readonly file: { readonly path: string };
  readonly 'http-sd': { readonly url: string; readonly max_bytes?: number };
  readonly 'dns-srv': { readonly name: string; readonly server?: string };
  readonly exec: { readonly command: readonly string[]; readonly max_bytes?: number };
  readonly fleet: { readonly bucket?: string };
}

export type InventoryPluginName = keyof InventoryPluginOptions;

/** One dynamic inventory (wireprobe extension); one variant per plugin. */
export type InventoryConfig = {
  [P in InventoryPluginName]: {
    readonly name: string;
    readonly plugin: P;
    /** seconds */
    readonly interval: number;
    /** seconds */
    readonly timeout: number;
    readonly options: InventoryPluginOptions[P];
    /** target keys (plus `groups`) merged under every entry; validated with each entry */
    readonly defaults: Readonly<Record<string, unknown>>;
  };
}[InventoryPluginName];

/**
 * `read`: read targets and operations; `write`: also change targets; `operate`: read, and start
 * and cancel on-demand operations (ping, traceroute, mtr). `write` does not imply `operate`.
 */
export type ApiScope = 'read' | 'write' | 'operate';

export interface ApiToken {
  /** the secret itself (from `token` or read from `token_file`); never logged */
  readonly token: string;
  readonly scope: ApiScope;
  /** where it comes from, for messages: `api.tokens[0]` or the token file path */
  readonly source: string;
}

/** The REST target API (wireprobe extension); see `$defs/api` in the schema. */
export interface ApiConfig {
  readonly enabled: boolean;
  readonly tokens: readonly ApiToken[];
  readonly max_targets: number;
  /** absolute (a relative `state_file` is resolved against the config file's directory); null: no persistence */
  readonly state_file: string | null;
  readonly body_limit_bytes: number;
  /** seconds; 0 = never expires */
  readonly default_lifetime: number;
  /** seconds; 0 = no limit */
  readonly max_lifetime: number;
  /** groups of API targets without explicit_groups; null = the file's membership rules */
  readonly default_groups: readonly string[] | null;
}

/** One allow or deny entry of `operations:`: a canonical network prefix. */
export interface PrefixConfig {
  /** canonical `network/prefix` text */
  readonly cidr: string;
  readonly family: AddressFamily;
}

/** On-demand operations over the API (wireprobe extension); see `$defs/operations` in the schema. */
export interface OperationsConfig {
  readonly enabled: boolean;
  /** operations running at once, all origins together */
  readonly max_concurrent: number;
  /** probes one operation may send, computed from its spec before it runs */
  readonly max_packets: number;
  /** seconds an operation may run; it is aborted then */
  readonly max_duration: number;
  /** per token: operations started per minute (refill) and burst (bucket size) */
  readonly rate: { readonly per_minute: number; readonly burst: number };
  /** destinations allowed (empty: none); the address a name resolves to is checked */
  readonly allow: readonly PrefixConfig[];
  /** destinations refused even when allowed */
  readonly deny: readonly PrefixConfig[];
  /** finished operations are kept this many seconds, and at most `keep_count` of them */
  readonly keep_for: number;
  readonly keep_count: number;
}

export interface FlowRetentionConfig {
  /** seconds; 0 = no age limit */
  readonly max_age: number;
  /** bytes the store may occupy; 0 = no size limit */
  readonly max_bytes: number;
}

export interface FlowSqliteConfig {
  /** absolute (relative paths resolve against the config file's directory) */
  readonly path: string;
  readonly retention: FlowRetentionConfig;
  /** rows per insert transaction */
  readonly batch_size: number;
  /** seconds between flushes of a partial batch */
  readonly flush_interval: number;
}

export interface FlowPostgresConfig {
  /** libpq connection URL (from `url` or read from `url_file`); never logged */
  readonly url: string;
  /** seconds covered by one time partition */
  readonly partition_interval: number;
  readonly retention: FlowRetentionConfig;
  readonly batch_size: number;
  readonly flush_interval: number;
}

/** The NetFlow v5/v9/IPFIX collector (wireprobe extension); see `$defs/flows` in the schema. */
export interface FlowsConfig {
  readonly enabled: boolean;
  /** UDP sockets to receive on (IPv4 or IPv6 literal addresses) */
  readonly listen: readonly { readonly address: string; readonly port: number }[];
  /** SO_RCVBUF asked for each socket */
  readonly receive_buffer_bytes: number;
  /** where data sets are decoded: on the collector's thread, or in the worker pool */
  readonly decode: 'inline' | 'pool';
  /** absolute; where templates (and by default the SQLite database) are kept across restarts */
  readonly state_dir: string;
  /** exporters with state and metrics; later ones are dropped and counted as exporter "other" */
  readonly max_exporters: number;
  /** templates kept per exporter */
  readonly max_templates: number;
  /** data sets waiting for their template, per exporter */
  readonly early_data: { readonly max_datagrams: number; readonly max_age: number };
  /** top-N talker gauges: window in seconds, N per key, hard cap on talker series */
  readonly top: { readonly window: number; readonly n: number; readonly max_series: number };
  /** null: flows are not stored */
  readonly sqlite: FlowSqliteConfig | null;
  readonly postgres: FlowPostgresConfig | null;
}

/** Operator tools (wireprobe extension); see `$defs/tools` in the schema (every key has a default). */
export interface ToolsConfig {
  readonly whois: {
    readonly server: string;
    readonly port: number;
    /** seconds, referrals included */
    readonly timeout: number;
    readonly max_referrals: number;
    readonly max_bytes: number;
  };
  readonly rdap: {
    readonly bootstrap_url: string;
    /** seconds */
    readonly bootstrap_ttl: number;
    /** seconds, bootstrap and redirects included */
    readonly timeout: number;
    readonly max_redirects: number;
    readonly max_bytes: number;
  };
  /** WHOIS and RDAP queries through the API, all clients together */
  readonly rate_limit: { readonly per_minute: number; readonly concurrent: number };
  readonly ipcalc: { readonly max_subnets: number; readonly max_prefixes: number };
}

export type FleetOperationKind = 'ping' | 'traceroute' | 'mtr' | 'check';

/** NATS credentials of a fleet member; secrets are never logged. */
export type FleetCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  /** the NKEY user seed (`SU...`) */
  | { readonly kind: 'nkey'; readonly seed: string };

/** The NATS fleet (wireprobe extension); see `$defs/fleet` in the schema. */
export interface FleetConfig {
  readonly enabled: boolean;
  readonly servers: readonly string[];
  /** this member's labels (without `name`, which is the probe_name) */
  readonly labels: Readonly<Record<string, string>>;
  /** seconds */
  readonly heartbeat_interval: number;
  /** seconds */
  readonly gone_after: number;
  /** seconds */
  readonly connect_timeout: number;
  /** `host:port` listed by the service discovery endpoint; null: derived from the metrics listener */
  readonly metrics_url: string | null;
  readonly credentials: FleetCredentials;
  /** absolute paths; null: no TLS */
  readonly tls: { readonly ca_file: string; readonly cert_file: string | null; readonly key_file: string | null } | null;
  readonly allow: { readonly operations: readonly FleetOperationKind[]; readonly destinations: readonly string[] };
  /** seconds, number of members */
  readonly dispatch: { readonly default_deadline: number; readonly max_deadline: number; readonly max_members: number };
}

export interface Config {
  /** path the config was read from (for messages) */
  readonly file: string;
  readonly global: GlobalConfig;
  readonly groups: Readonly<Record<string, GroupConfig>>;
  readonly targets: Readonly<Record<string, TargetConfig>>;
  /** host checks by kind (every kind present, possibly empty) */
  readonly checks: Readonly<Record<CheckKindName, readonly CheckInstanceConfig[]>>;
  readonly inventories: readonly InventoryConfig[];
  /** present when the file has an `api:` section */
  readonly api?: ApiConfig;
  /** present when the file has a `flows:` section */
  readonly flows?: FlowsConfig;
  /** always present in a loaded config (the schema defaults the section); absent only in configs built by hand */
  readonly tools?: ToolsConfig;
  /** present when the file has an `operations:` section */
  readonly operations?: OperationsConfig;
  /** present when the file has a `fleet:` section */
  readonly fleet?: FleetConfig;
}
