/**
 * `wireprobe flows top`: the top talkers of a time range, read from a flow database directly
 * (read-only, while wireprobe writes it) or from a running wireprobe's API. Exit codes
 * (sysexits): 0 ok, 64 usage, 65 bad data (a value that does not parse, a file that is not a
 * flow database, a query the server refuses), 69 unavailable (no such file, server unreachable
 * or busy, timeout), 77 the API refused the token.
 */
import { existsSync } from 'node:fs';
import { ErrorCodes, errorMessage, isAppError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { FLOW_GROUP_KEYS, flowsView, parseFlowQuery } from './query-params.js';
import { openSqliteFlowReader } from './store/sqlite.js';

export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_UNAVAILABLE = 69;
export const EX_NOPERM = 77;

export const FLOWS_USAGE = [
  'usage: wireprobe flows top [--since DURATION | --from TIME] [--to TIME] --by KEY [--order bytes|packets|flows]',
  '                           [--limit N] [--filter KEY=VALUE]... [--json] [--timeout SECONDS] (--db PATH | --url http://HOST:PORT)',
  `       KEY of --by: ${FLOW_GROUP_KEYS.join(', ')}; --filter keys: src, dst, addr (address or CIDR), port, src_port, dst_port,`,
  '       proto (number or tcp/udp/icmp...), exporter, in_if, out_if. --url sends $WIREPROBE_API_TOKEN as the bearer token.',
].join('\n');

const FILTER_KEYS = ['src', 'dst', 'addr', 'port', 'src_port', 'dst_port', 'proto', 'exporter', 'in_if', 'out_if'];

export interface FlowsCliDeps {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Unix ms */
  readonly wallMs: () => number;
  readonly fetch: typeof fetch;
}

interface TopArgs {
  readonly params: Record<string, string[]>;
  readonly json: boolean;
  readonly db: string | null;
  readonly url: string | null;
  readonly timeoutMs: number;
}

/** a command line that does not parse (exit 64) */
class UsageError extends Error {}

function parseTopArgs(args: readonly string[]): TopArgs {
  const params: Record<string, string[]> = {};
  const add = (key: string, value: string): void => {
    (params[key] ??= []).push(value);
  };
  let json = false;
  let db: string | null = null;
  let url: string | null = null;
  let timeoutMs = 10_000;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const [name, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--json':
        json = true;
        break;
      case '--since':
      case '--from':
        add('from', value());
        break;
      case '--to':
      case '--until':
        add('to', value());
        break;
      case '--by':
        add('group_by', value());
        break;
      case '--order':
        add('order_by', value());
        break;
      case '--limit':
      case '-n':
        add('limit', value());
        break;
      case '--filter': {
        const f = value();
        const at = f.indexOf('=');
        const key = f.slice(0, at);
        if (at <= 0 || !FILTER_KEYS.includes(key)) throw new UsageError(`--filter wants KEY=VALUE with KEY one of ${FILTER_KEYS.join(', ')}, not ${JSON.stringify(f)}`);
        add(key, f.slice(at + 1));
        break;
      }
      case '--db':
        db = value();
        break;
      case '--url':
        url = value();
        break;
      case '--timeout': {
        const s = Number(value());
        if (!(s > 0 && s <= 3600)) throw new UsageError('--timeout wants seconds, more than 0 and at most 3600');
        timeoutMs = Math.round(s * 1000);
        break;
      }
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (params['group_by'] === undefined) throw new UsageError('--by KEY is required');
  if ((db === null) === (url === null)) throw new UsageError('give one of --db PATH or --url http://HOST:PORT');
  return { params, json, db, url, timeoutMs };
}

function table(view: Record<string, unknown>): string {
  const rows = view['rows'] as { key: Record<string, string | number>; flows: number; bytes: number; packets: number }[];
  const totals = view['totals'] as { flows: number; bytes: number; packets: number };
  const keys = rows.length > 0 ? Object.keys(rows[0]!.key) : [String(view['group_by'])];
  const share = (b: number): string => (totals.bytes > 0 ? `${((100 * b) / totals.bytes).toFixed(1)}%` : '-');
  const lines: string[][] = [[...keys, 'flows', 'bytes', 'packets', 'bytes%']];
  for (const r of rows) lines.push([...keys.map((k) => String(r.key[k] ?? '')), String(r.flows), String(r.bytes), String(r.packets), share(r.bytes)]);
  const others = view['others'] as { flows: number; bytes: number; packets: number } | null;
  if (others !== null && others.flows > 0) lines.push([...keys.map((_k, i) => (i === 0 ? '(others)' : '')), String(others.flows), String(others.bytes), String(others.packets), share(others.bytes)]);
  lines.push([...keys.map((_k, i) => (i === 0 ? '(total)' : '')), String(totals.flows), String(totals.bytes), String(totals.packets), totals.bytes > 0 ? '100.0%' : '-']);
  const widths = lines[0]!.map((_c, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const text = lines.map((l) => l.map((c, i) => (i < keys.length ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  return `${String(view['from'])} .. ${String(view['to'])}\n${text.join('\n')}\n`;
}

async function fromApi(a: TopArgs, d: FlowsCliDeps): Promise<{ view?: Record<string, unknown>; code: number; message?: string }> {
  let base: URL;
  try {
    base = new URL('api/v1/flows', a.url!.endsWith('/') ? a.url! : `${a.url!}/`);
  } catch {
    return { code: EX_USAGE, message: `--url ${JSON.stringify(a.url)} is not a URL` };
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return { code: EX_USAGE, message: '--url must be http:// or https://' };
  for (const [k, list] of Object.entries(a.params)) for (const v of list) base.searchParams.append(k, v);
  const token = d.env['WIREPROBE_API_TOKEN'];
  let res: Response;
  let body: unknown;
  try {
    res = await d.fetch(base, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(a.timeoutMs) });
    body = await res.json();
  } catch (e) {
    return { code: EX_UNAVAILABLE, message: `${base.origin}: ${errorMessage(e)}` };
  }
  if (res.ok) return { view: body as Record<string, unknown>, code: EX_OK };
  const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
  const message = `${base.origin} answered ${res.status}${err?.code ? ` ${err.code}` : ''}: ${err?.message ?? ''}`;
  if (res.status === 401 || res.status === 403) return { code: EX_NOPERM, message };
  return { code: res.status >= 400 && res.status < 500 && res.status !== 404 && res.status !== 408 ? EX_DATAERR : EX_UNAVAILABLE, message };
}

async function fromDb(a: TopArgs, d: FlowsCliDeps): Promise<{ view?: Record<string, unknown>; code: number; message?: string }> {
  const parsed = parseFlowQuery(a.params, d.wallMs());
  if (parsed.spec === undefined) return { code: EX_DATAERR, message: parsed.problems.join('; ') };
  if (!existsSync(a.db!)) return { code: EX_UNAVAILABLE, message: `${a.db!}: no such file` };
  const log = createLogger((line) => d.stderr(`${line}\n`), 'warn');
  try {
    const reader = await openSqliteFlowReader(a.db!, { log, openTimeoutMs: a.timeoutMs });
    try {
      return { view: flowsView(parsed.spec, await reader.query(parsed.spec, a.timeoutMs)), code: EX_OK };
    } finally {
      await reader.close(2000);
    }
  } catch (e) {
    const data = isAppError(e, ErrorCodes.FLOWDB_ERR_STORE) || isAppError(e, ErrorCodes.FLOWDB_ERR_QUERY_INVALID);
    return { code: data ? EX_DATAERR : EX_UNAVAILABLE, message: errorMessage(e) };
  }
}

/** Runs `wireprobe flows ARGS…`; resolves to the exit code. */
export async function flowsCli(args: readonly string[], d: FlowsCliDeps): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    d.stdout(`${FLOWS_USAGE}\n`);
    return EX_OK;
  }
  if (sub !== 'top') {
    d.stderr(`wireprobe: unknown flows command ${JSON.stringify(sub ?? '')}\n${FLOWS_USAGE}\n`);
    return EX_USAGE;
  }
  let a: TopArgs;
  try {
    a = parseTopArgs(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    d.stderr(`wireprobe: ${e.message}\n${FLOWS_USAGE}\n`);
    return EX_USAGE;
  }
  const out = a.url !== null ? await fromApi(a, d) : await fromDb(a, d);
  if (out.view === undefined) {
    d.stderr(`wireprobe: ${out.message ?? 'failed'}\n`);
    return out.code;
  }
  d.stdout(a.json ? `${JSON.stringify(out.view, null, 2)}\n` : table(out.view));
  return EX_OK;
}
