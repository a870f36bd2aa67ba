/**
 * The rules of the `flows:` section that JSON Schema cannot express (listen addresses are IP
 * literals, each address/port once; the PostgreSQL URL set exactly once, inline or in a file
 * read here), and the building of FlowsConfig from the defaulted data. URLs never appear in
 * messages.
 */
import { dirname, resolve } from 'node:path';
import { canonicalIp } from '../lib/address.js';
import { errorMessage } from '../lib/errors.js';
import { isObj, type Obj } from '../lib/obj.js';
import { MAX_TOKEN_LENGTH } from './api.js';
import type { Segment } from './errors.js';
import type { Issue } from './issue.js';
import type { RuleContext } from './rules.js';
import type { FlowPostgresConfig, FlowRetentionConfig, FlowSqliteConfig, FlowsConfig } from './types.js';

export interface FlowsSectionResult {
  readonly errors: Issue[];
  /** the PostgreSQL URL (inline or read from url_file); null without postgres */
  postgresUrl: string | null;
}

/** The shape of `flows:` after schema validation with defaults. */
export interface RawFlows {
  enabled: boolean;
  listen: { address: string; port: number }[];
  receive_buffer_bytes: number;
  decode: 'inline' | 'pool';
  state_dir: string;
  max_exporters: number;
  max_templates: number;
  early_data: { max_datagrams: number; max_age: number };
  top: { window: number; n: number; max_series: number };
  sqlite: (Omit<FlowSqliteConfig, 'path'> & { path?: string }) | null;
  postgres?: (Omit<FlowPostgresConfig, 'url'> & { url?: string; url_file?: string }) | null;
}

/** Longest accepted URL file, in bytes (what the token file reader reads, less one). */
const MAX_URL_FILE_BYTES = MAX_TOKEN_LENGTH;

function osReason(e: unknown): string {
  const message = errorMessage(e);
  const match = /^([A-Z]+): ([^,]+)/.exec(message);
  return match === null ? message : `${match[2]} (${match[1]})`;
}

function listenIssues(flows: Obj, ctx: RuleContext, out: FlowsSectionResult): void {
  if (!Array.isArray(flows.listen)) return;
  const seen = new Map<string, number>();
  flows.listen.forEach((entry: unknown, i) => {
    const at: Segment[] = ['flows', 'listen', i];
    if (!isObj(entry) || ctx.skip(at) || typeof entry.address !== 'string') return;
    const address = canonicalIp(entry.address);
    if (address === null) {
      out.errors.push({ segments: [...at, 'address'], message: `"${entry.address}" is not an IPv4 or IPv6 address` });
      return;
    }
    const key = `${address} ${String(entry.port)}`;
    const first = seen.get(key);
    if (first !== undefined) out.errors.push({ segments: at, message: `same address and port as flows.listen[${first}]` });
    else seen.set(key, i);
  });
}

function postgresIssues(flows: Obj, dir: string, read: (path: string) => string, ctx: RuleContext, out: FlowsSectionResult): void {
  const pg = flows.postgres;
  const at: Segment[] = ['flows', 'postgres'];
  if (!isObj(pg) || ctx.skip(at)) return;
  const file = pg.url_file;
  if ((pg.url !== undefined) === (file !== undefined)) {
    out.errors.push({ segments: at, message: 'set exactly one of url and url_file' });
    return;
  }
  if (typeof pg.url === 'string') {
    out.postgresUrl = pg.url;
    return;
  }
  const path = resolve(dir, file as string);
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    out.errors.push({ segments: [...at, 'url_file'], message: `cannot read URL file ${JSON.stringify(path)}: ${osReason(e)}` });
    return;
  }
  const url = text.trim();
  if (url === '' || text.length > MAX_URL_FILE_BYTES) {
    out.errors.push({ segments: [...at, 'url_file'], message: `URL file ${JSON.stringify(path)} is empty or longer than ${MAX_URL_FILE_BYTES} bytes` });
    return;
  }
  out.postgresUrl = url;
}

/** Checks the `flows:` section of defaulted data; reads the PostgreSQL URL file (relative to `dir`) with `read`. */
export function checkFlowsSection(data: unknown, dir: string, read: (path: string) => string, ctx: RuleContext): FlowsSectionResult {
  const out: FlowsSectionResult = { errors: [], postgresUrl: null };
  if (!isObj(data) || !isObj(data.flows)) return out;
  listenIssues(data.flows, ctx, out);
  postgresIssues(data.flows, dir, read, ctx, out);
  return out;
}

const retention = (r: FlowRetentionConfig): FlowRetentionConfig => ({ max_age: r.max_age, max_bytes: r.max_bytes });

/** FlowsConfig from the checked data; paths resolved against the config file's directory. */
export function buildFlows(raw: RawFlows, file: string, postgresUrl: string | null): FlowsConfig {
  const dir = dirname(file);
  const stateDir = resolve(dir, raw.state_dir);
  const { sqlite, postgres } = raw;
  return {
    enabled: raw.enabled,
    listen: raw.listen.map((l) => ({ address: l.address, port: l.port })),
    receive_buffer_bytes: raw.receive_buffer_bytes,
    decode: raw.decode,
    state_dir: stateDir,
    max_exporters: raw.max_exporters,
    max_templates: raw.max_templates,
    early_data: { ...raw.early_data },
    top: { ...raw.top },
    sqlite: sqlite === null ? null : {
      path: sqlite.path === undefined ? resolve(stateDir, 'flows.sqlite') : resolve(dir, sqlite.path),
      retention: retention(sqlite.retention),
      batch_size: sqlite.batch_size,
      flush_interval: sqlite.flush_interval,
    },
    postgres: postgres === null || postgres === undefined || postgresUrl === null ? null : {
      url: postgresUrl,
      partition_interval: postgres.partition_interval,
      retention: retention(postgres.retention),
      batch_size: postgres.batch_size,
      flush_interval: postgres.flush_interval,
    },
  };
}
