/**
 * `wireprobe fleet ...`: the fleet from the command line, connecting to NATS with the `fleet:`
 * section of the config file (one attempt, bounded by connect_timeout):
 *   members [--all] [--json]                       the members, their labels, version, last heartbeat
 *   ping|traceroute|mtr [TARGETING] [OPTIONS] DEST  an operation on members, results as they come
 *   check [TARGETING] KIND NAME                    one run of a host check instance on members
 *   inventory list|put|delete ...                  the shared inventory bucket
 * TARGETING: --select k=v[,k=v] | --member NAME (default: every live member), --deadline S.
 * Exit codes: 0 every addressed member answered ok, 1 otherwise (missing, refused, error), 64 usage.
 */
import { Kvm } from '@nats-io/kv';
import type { Config, FleetConfig } from '../config/types.js';
import { DEFAULT_SHARED_BUCKET } from '../inventory/types.js';
import type { Clock } from '../lib/clock.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import { connectOnce } from './connection.js';
import { dispatch, type DispatchReport } from './dispatch.js';
import { openMembersBucket, readMembers } from './members.js';
import { decode, encode, isLive, type FleetReply } from './protocol.js';
import { selectMembers } from './service.js';
import { ALL, parseSelector } from './selector.js';
import { parseOperation } from './spec.js';

export interface CliIo {
  readonly clock: Clock;
  out(text: string): void;
}

const usageError = (message: string): AppError => new AppError(ErrorCodes.FLEET_ERR_REQUEST, message);

export const FLEET_USAGE = [
  'usage: wireprobe fleet members [--config FILE] [--all] [--json]',
  '       wireprobe fleet ping|traceroute|mtr [--config FILE] [--select k=v,... | --member NAME] [--deadline S] [--json]',
  '                 [--protocol icmp|tcp|udp] [--port N] [--count N] [--interval S] [--max-hops N] [--queries N] [--paths N] [--cycles N] [--timeout S] DEST',
  '       wireprobe fleet check [--config FILE] [--select k=v,... | --member NAME] [--deadline S] [--json] KIND NAME',
  '       wireprobe fleet inventory list|put KEY --select k=v,... ENTRY-JSON|delete KEY [--bucket B] [--config FILE]',
].join('\n');

interface Parsed {
  readonly flags: Map<string, string>;
  readonly bools: Set<string>;
  readonly positional: string[];
}

const BOOL_FLAGS = new Set(['--json', '--all']);
const OPTION_KEYS: Readonly<Record<string, string>> = {
  '--protocol': 'protocol', '--port': 'port', '--count': 'count', '--interval': 'interval', '--max-hops': 'maxHops',
  '--queries': 'queries', '--paths': 'paths', '--cycles': 'cycles', '--timeout': 'timeout', '--size': 'size', '--dscp': 'dscp',
};

/** `--flag value`, `--flag=value`, boolean flags and positionals (`--config` is taken out by the caller). */
export function parseArgs(args: readonly string[]): Parsed {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (BOOL_FLAGS.has(name)) {
      bools.add(name);
      continue;
    }
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw usageError(`${name} needs a value`);
    flags.set(name, value);
  }
  return { flags, bools, positional };
}

function operationOf(kind: string, p: Parsed): unknown {
  if (kind === 'check') {
    const [check, name, ...extra] = p.positional;
    if (check === undefined || name === undefined || extra.length > 0) throw usageError('fleet check needs KIND and NAME');
    return { kind, check, name };
  }
  const [destination, ...extra] = p.positional;
  if (destination === undefined || extra.length > 0) throw usageError(`fleet ${kind} needs one DEST`);
  const spec: Record<string, unknown> = { kind, destination };
  for (const [flag, value] of p.flags) {
    const key = OPTION_KEYS[flag];
    if (key === undefined) {
      if (!['--select', '--member', '--deadline', '--bucket'].includes(flag)) throw usageError(`unknown option ${flag}`);
      continue;
    }
    spec[key] = key === 'protocol' ? value : Number(value);
  }
  return spec;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

function describeReply(r: FleetReply): string | null {
  switch (r.type) {
    case 'accepted':
      return `${r.member}: started`;
    case 'event': {
      const e = r.event;
      if (e.type === 'hop') {
        const h = e.hop;
        const rtt = h.avgMs === null ? '*' : `${h.avgMs.toFixed(2)} ms`;
        return `${r.member}: ${String(h.ttl).padStart(2)}  ${h.addresses.join(', ') || '*'}  ${rtt}  loss ${(h.loss * 100).toFixed(0)}%`;
      }
      if (e.type === 'probe' && e.reply.ttl === undefined) {
        return `${r.member}: seq ${e.reply.seq} ${e.reply.from ?? '*'} ${e.reply.rttMs === null ? 'timeout' : `${e.reply.rttMs.toFixed(2)} ms`}`;
      }
      return null;
    }
    case 'result':
      return null;
    case 'refused':
    case 'error':
      return `${r.member}: ${r.type} (${r.code}): ${r.message}`;
  }
}

function summary(report: DispatchReport): string {
  const lines = report.members.map((m) => {
    const latency = m.latencyMs === null ? '-' : `${m.latencyMs.toFixed(0)} ms`;
    const res = m.result as { reached?: unknown; ok?: unknown; received?: unknown; sent?: unknown } | undefined;
    const detail = res === undefined
      ? (m.message ?? '')
      : 'ok' in res ? `check ${res.ok === true ? 'ok' : 'failed'}` : `reached=${String(res.reached)} received ${String(res.received)}/${String(res.sent)}`;
    return `${m.member.padEnd(24)} ${m.status.padEnd(8)} ${latency.padStart(9)}  ${detail}`;
  });
  return [`${'MEMBER'.padEnd(24)} ${'STATUS'.padEnd(8)} ${'LATENCY'.padStart(9)}  DETAIL`, ...lines, `${report.members.length} members, ${report.elapsedMs.toFixed(0)} ms`].join('\n');
}

async function members(fleet: FleetConfig, name: string, p: Parsed, io: CliIo): Promise<number> {
  const nc = await connectOnce(fleet, name);
  try {
    const kv = await openMembersBucket(nc);
    const now = io.clock.wallMs();
    const list = (await readMembers(kv)).map((m) => ({ ...m, live: isLive(m, now) })).filter((m) => m.live || p.bools.has('--all'));
    if (p.bools.has('--json')) {
      io.out(`${JSON.stringify({ members: list }, null, 2)}\n`);
      return 0;
    }
    const rows = list.map((m) => {
      const labels = Object.entries(m.labels).filter(([k]) => k !== 'name').map(([k, v]) => `${k}=${v}`).join(',');
      return `${m.name.padEnd(24)} ${(m.live ? 'live' : 'gone').padEnd(5)} ${m.version.padEnd(10)} ${ago(now - m.heartbeatMs).padEnd(9)} ${m.metrics.padEnd(22)} ${labels}`;
    });
    io.out(`${['NAME'.padEnd(24), 'STATE', 'VERSION'.padEnd(10), 'HEARTBEAT', 'METRICS'.padEnd(22), 'LABELS'].join(' ')}\n${rows.join('\n')}${rows.length > 0 ? '\n' : ''}`);
    return 0;
  } finally {
    await nc.close();
  }
}

async function operation(fleet: FleetConfig, name: string, kind: string, p: Parsed, io: CliIo): Promise<number> {
  const op = parseOperation(operationOf(kind, p));
  const select = p.flags.get('--select');
  const one = p.flags.get('--member');
  if (select !== undefined && one !== undefined) throw usageError('use --select or --member, not both');
  const selector = one !== undefined ? parseSelector(`name=${one}`) : select === undefined ? ALL : parseSelector(select);
  const deadline = Number(p.flags.get('--deadline') ?? fleet.dispatch.default_deadline);
  if (!(deadline > 0) || deadline > fleet.dispatch.max_deadline) throw usageError(`--deadline must be above 0 and at most ${fleet.dispatch.max_deadline}`);
  const nc = await connectOnce(fleet, name);
  try {
    const kv = await openMembersBucket(nc);
    const targets = selectMembers(await readMembers(kv), selector, io.clock.wallMs());
    if (targets.length > fleet.dispatch.max_members) throw usageError(`${targets.length} members selected; at most ${fleet.dispatch.max_members}`);
    const json = p.bools.has('--json');
    const report = await dispatch(nc, {
      members: targets, operation: op, deadlineMs: deadline * 1000, origin: `${name}/cli`, clock: io.clock,
      onReply: (r) => {
        if (json) io.out(`${JSON.stringify(r)}\n`);
        else {
          const line = describeReply(r);
          if (line !== null) io.out(`${line}\n`);
        }
      },
    });
    io.out(json ? `${JSON.stringify({ report })}\n` : `${summary(report)}\n`);
    return report.members.length > 0 && report.members.every((m) => m.status === 'ok') ? 0 : 1;
  } finally {
    await nc.close();
  }
}

async function inventory(fleet: FleetConfig, name: string, p: Parsed, io: CliIo): Promise<number> {
  const [action, key, value, ...extra] = p.positional;
  const bucket = p.flags.get('--bucket') ?? DEFAULT_SHARED_BUCKET;
  const nc = await connectOnce(fleet, name);
  try {
    const kv = await new Kvm(nc).create(bucket, { history: 1 });
    switch (action) {
      case 'list': {
        const out: Record<string, unknown> = {};
        const keys = new Set<string>();
        for await (const k of await kv.keys()) keys.add(k);
        for (const k of [...keys].sort()) {
          const e = await kv.get(k);
          if (e !== null && e.operation === 'PUT') out[k] = decode(e.value);
        }
        io.out(`${JSON.stringify(out, null, 2)}\n`);
        return 0;
      }
      case 'put': {
        const select = p.flags.get('--select');
        if (key === undefined || value === undefined || extra.length > 0 || select === undefined) throw usageError('inventory put needs KEY, --select and ENTRY-JSON');
        parseSelector(select);
        let target: unknown;
        try {
          target = JSON.parse(value);
        } catch {
          throw usageError('ENTRY-JSON is not JSON');
        }
        await kv.put(key, encode({ select, target }));
        return 0;
      }
      case 'delete':
        if (key === undefined || value !== undefined) throw usageError('inventory delete needs KEY');
        await kv.delete(key);
        return 0;
      case undefined:
      default:
        throw usageError('inventory needs list, put or delete');
    }
  } finally {
    await nc.close();
  }
}

/** Runs `wireprobe fleet <args>` with a loaded config; the exit code. */
export async function fleetCommand(config: Config, args: readonly string[], io: CliIo): Promise<number> {
  const fleet = config.fleet;
  if (fleet === undefined) throw usageError(`${config.file} has no fleet: section`);
  const [sub, ...rest] = args;
  const p = parseArgs(rest);
  const name = `${config.global.probe_name}-cli`;
  switch (sub) {
    case 'members':
      return members(fleet, name, p, io);
    case 'ping':
    case 'traceroute':
    case 'mtr':
    case 'check':
      return operation(fleet, name, sub, p, io);
    case 'inventory':
      return inventory(fleet, name, p, io);
    case undefined:
    default:
      throw usageError(`unknown fleet command ${JSON.stringify(sub ?? '')}\n${FLEET_USAGE}`);
  }
}
