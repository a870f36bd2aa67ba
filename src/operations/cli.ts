/**
 * The one-shot CLI commands `wireprobe ping|traceroute|mtr DEST [options]`: their options
 * (parsed into an OperationSpec) and their output, printed as events come: fping-like lines
 * for ping, traceroute's hop lines, mtr's --report table; or one JSON event per line. Pure:
 * main.ts owns argv, the engine and the exit code.
 */
import type { HopStats, OperationEvent, OperationKind, OperationProtocol, OperationResult, OperationSpec, ProbeReply } from './types.js';

export function operationUsage(): string {
  return [
    '       wireprobe ping DEST [-c COUNT] [-i SECONDS] [common options]',
    '       wireprobe traceroute DEST [--max-hops N] [-q|--queries N] [--paths N] [common options]',
    '       wireprobe mtr DEST [--cycles N] [-i SECONDS] [--max-hops N] [common options]',
    '  common options: [-P icmp|tcp|udp] [-p PORT] [-s|--size BYTES] [--dscp N] [--source ADDR] [-4|-6]',
    '                  [-w|--timeout SECONDS] [-n] [--asn] [--json]',
  ].join('\n');
}

export interface OperationArgs {
  readonly spec: OperationSpec;
  readonly json: boolean;
}

/** A command line the CLI refuses (exit 64). */
export class UsageError extends Error {}

const PROTOCOLS: readonly OperationProtocol[] = ['icmp', 'tcp', 'udp'];

function num(opt: string, v: string | undefined, integer: boolean): number {
  if (v === undefined || v.trim() === '') throw new UsageError(`${opt} needs a value`);
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0) throw new UsageError(`${opt}: not a ${integer ? 'whole ' : ''}number: ${v}`);
  return n;
}

/** Parses the arguments after `wireprobe KIND`; throws UsageError. */
export function parseOperationArgs(kind: OperationKind, args: readonly string[]): OperationArgs {
  let destination: string | undefined;
  let protocol: OperationProtocol = kind === 'traceroute' ? 'udp' : 'icmp';
  let family: 4 | 6 | undefined;
  let port: number | undefined;
  let size: number | undefined;
  let dscp = 0;
  let source: string | undefined;
  let timeout: number | undefined;
  let count = 5;
  let interval = 1;
  let maxHops = 30;
  let queries = 3;
  let paths = 1;
  let cycles = 10;
  let resolve = true;
  let asn = false;
  let json = false;
  const only = (opt: string, ...kinds: OperationKind[]): void => {
    if (!kinds.includes(kind)) throw new UsageError(`${opt} is not an option of ${kind}`);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const opt = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : args[++i]);
    switch (opt) {
      case '-c': case '--count': only(opt, 'ping'); count = num(opt, value(), true); break;
      case '-i': case '--interval': only(opt, 'ping', 'mtr'); interval = num(opt, value(), false); break;
      case '-s': case '--size': size = num(opt, value(), true); break;
      case '--dscp': dscp = num(opt, value(), true); break;
      case '--source': source = value(); if (source === undefined) throw new UsageError('--source needs an address'); break;
      case '-4': family = 4; break;
      case '-6': family = 6; break;
      case '-P': case '--protocol': {
        const p = value();
        if (!PROTOCOLS.includes(p as OperationProtocol)) throw new UsageError(`${opt}: icmp, tcp or udp (got ${p ?? 'nothing'})`);
        protocol = p as OperationProtocol;
        break;
      }
      case '-p': case '--port': port = num(opt, value(), true); break;
      case '-w': case '--timeout': timeout = num(opt, value(), false); break;
      case '-m': case '--max-hops': only(opt, 'traceroute', 'mtr'); maxHops = num(opt, value(), true); break;
      case '-q': case '--queries': only(opt, 'traceroute'); queries = num(opt, value(), true); break;
      case '--paths': only(opt, 'traceroute'); paths = num(opt, value(), true); break;
      case '--cycles': only(opt, 'mtr'); cycles = num(opt, value(), true); break;
      case '-n': only(opt, 'traceroute', 'mtr'); resolve = false; break;
      case '--asn': only(opt, 'traceroute', 'mtr'); asn = true; break;
      case '--json': json = true; break;
      default:
        if (a.startsWith('-') || destination !== undefined) throw new UsageError(`unknown argument ${a}`);
        destination = a;
    }
  }
  if (destination === undefined) throw new UsageError(`${kind} needs a DEST`);
  if (protocol === 'icmp' && port !== undefined) throw new UsageError('-p applies to tcp and udp');
  const base = {
    destination, protocol, ...(family === undefined ? {} : { family }), ...(port === undefined ? {} : { port }),
    size: size ?? (protocol === 'tcp' ? 0 : kind === 'ping' ? 56 : 32), dscp, ...(source === undefined ? {} : { source }),
    timeout: timeout ?? (kind === 'ping' ? 1 : 2),
  };
  const spec: OperationSpec = kind === 'ping'
    ? { ...base, kind, count, interval }
    : kind === 'traceroute'
      ? { ...base, kind, maxHops, queries, paths, resolve, asn }
      : { ...base, kind, maxHops, cycles, interval, resolve, asn };
  return { spec, json };
}

const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(3));

function why(r: ProbeReply): string {
  return r.icmpType === undefined ? '' : ` (ICMP type ${r.icmpType} code ${r.icmpCode ?? 0})`;
}

function hopName(h: HopStats, address: string): string {
  const name = h.names[address];
  const asn = h.asns[address];
  return `${name === undefined ? address : `${name} (${address})`}${asn === undefined ? '' : ` [AS${asn}]`}`;
}

/** mtr --report's table of one path. */
export function mtrReport(result: OperationResult, host: string): string[] {
  const rows = [`HOST: ${host.padEnd(30)} Loss%   Snt   Last    Avg   Best   Wrst  StDev`];
  for (const h of result.paths[0] ?? []) {
    const who = h.addresses.length === 0 ? '???' : h.addresses.map((a) => hopName(h, a)).join(' ');
    const f = (v: number | null): string => (v === null ? '' : v.toFixed(1)).padStart(6);
    rows.push(`${String(h.ttl).padStart(3)}.|-- ${who.padEnd(30)} ${(h.loss * 100).toFixed(1).padStart(5)}% ${String(h.sent).padStart(5)} ${f(h.lastMs)} ${f(h.avgMs)} ${f(h.bestMs)} ${f(h.worstMs)} ${f(h.stddevMs)}`);
  }
  return rows;
}

/**
 * The printer of one command: feed it every event; it writes whole lines through `write`.
 * Traceroute hop lines come out as hops complete, mtr's report and ping's summary at `done`.
 */
export function createPrinter(kind: OperationKind, json: boolean, write: (line: string) => void, host: string): (e: OperationEvent) => void {
  if (json) return (e) => write(JSON.stringify(e));
  /** traceroute: the replies of each (path, ttl), for its hop line */
  const replies = new Map<string, ProbeReply[]>();
  let paths = 1;
  return (e) => {
    switch (e.type) {
      case 'start': {
        const s = e.spec;
        const named = s.destination === e.address ? e.address : `${s.destination} (${e.address})`;
        if (s.kind === 'traceroute') paths = s.paths;
        const what = s.kind === 'ping' ? `${s.protocol}${s.port === undefined ? '' : ` port ${s.port}`}, ${s.size} data bytes`
          : `${s.protocol}, ${s.maxHops} hops max${s.kind === 'traceroute' && s.paths > 1 ? `, ${s.paths} flows` : ''}`;
        write(`${kind.toUpperCase()} ${named}: ${what}`);
        break;
      }
      case 'probe': {
        const r = e.reply;
        if (kind === 'ping') {
          const line = r.from === null ? 'timeout' : `${r.kind} from ${r.from}${r.rttMs === null ? '' : ` ${ms(r.rttMs)} ms`}${why(r)}`;
          write(`[${r.seq}] ${line}`);
        } else if (kind === 'traceroute') {
          const key = `${r.path ?? 0}/${r.ttl ?? 0}`;
          const list = replies.get(key) ?? [];
          list.push(r);
          replies.set(key, list);
        }
        break;
      }
      case 'hop': {
        if (kind !== 'traceroute') break;
        const h = e.hop;
        const list = replies.get(`${e.path}/${h.ttl}`) ?? [];
        const parts: string[] = [];
        let last: string | null = null;
        for (const r of list) {
          if (r.from === null) {
            parts.push('*');
            continue;
          }
          if (r.from !== last) parts.push(hopName(h, r.from));
          last = r.from;
          const mark = r.kind === 'unreachable' ? ` !${r.icmpCode ?? ''}` : '';
          parts.push(`${ms(r.rttMs)} ms${mark}`);
        }
        write(`${paths > 1 ? `[${e.path}] ` : ''}${String(h.ttl).padStart(2)}  ${parts.join('  ')}`);
        break;
      }
      case 'annotate':
        break;
      case 'done': {
        const r = e.result;
        if (kind === 'ping') {
          const h = r.paths[0]?.[0];
          const loss = r.sent === 0 ? 0 : Math.round(((r.sent - r.received) / r.sent) * 100);
          write(`${host} : xmt/rcv/%loss = ${r.sent}/${r.received}/${loss}%${h?.avgMs == null ? '' : `, min/avg/max/stddev = ${ms(h.bestMs)}/${ms(h.avgMs)}/${ms(h.worstMs)}/${ms(h.stddevMs)} ms`}`);
        } else if (kind === 'traceroute') {
          if (paths > 1) {
            write(`${r.paths.length} distinct path${r.paths.length === 1 ? '' : 's'}:`);
            r.paths.forEach((hops, i) => write(`  ${i + 1}: ${hops.map((h) => (h.addresses.length === 0 ? '*' : h.addresses.join('|'))).join(' > ')}`));
          }
        } else {
          for (const line of mtrReport(r, host)) write(line);
        }
        write(`${r.reached ? 'reached' : 'not reached'} ${r.address} in ${((r.endedMs - r.startedMs) / 1000).toFixed(2)} s`);
        break;
      }
      case 'error':
        write(`error ${e.code}: ${e.message}`);
        break;
    }
  };
}
