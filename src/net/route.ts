/**
 * Egress interface and preferred source for destinations, from the kernel (`ip route get`),
 * many at once through `ip -batch` so 10 000 targets cost one process, not 10 000.
 */
import { spawn } from 'node:child_process';
import { deadline } from '../lib/deadline.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { RouteInfo, RouteResolver } from './types.js';

interface RouteJson {
  dst?: string;
  dev?: string;
  prefsrc?: string;
}

/** Pure: parses the output of `ip -json -batch -` (one JSON array per line). */
export function parseRouteBatch(stdout: string): Map<string, RouteInfo> {
  const out = new Map<string, RouteInfo>();
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('[')) continue;
    let rows: unknown;
    try {
      rows = JSON.parse(t);
    } catch {
      continue;
    }
    if (!Array.isArray(rows)) continue;
    for (const r of rows as RouteJson[]) {
      if (typeof r.dst === 'string' && typeof r.dev === 'string') {
        out.set(r.dst, { dev: r.dev, prefsrc: typeof r.prefsrc === 'string' ? r.prefsrc : null });
      }
    }
  }
  return out;
}

export function createRouteResolver(ipBinary = 'ip', timeoutMs = 10_000): RouteResolver {
  return {
    lookup(addresses, signal) {
      if (addresses.length === 0) return Promise.resolve(new Map());
      return new Promise((resolve, reject) => {
        // not AbortSignal.any: `signal` is the app's, alive for the whole run (see lib/deadline.ts)
        const bound = deadline(signal, timeoutMs);
        const child = spawn(ipBinary, ['-force', '-json', '-batch', '-'], {
          stdio: ['pipe', 'pipe', 'pipe'],
          signal: bound.signal,
        });
        const chunks: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => chunks.push(c));
        child.stderr.resume();
        child.on('error', (e) => {
          bound.done();
          reject(new AppError(ErrorCodes.NET_ERR_ROUTE, `route lookup with ${ipBinary} failed: ${e.message}`, { cause: e }));
        });
        child.on('close', () => {
          bound.done();
          resolve(parseRouteBatch(Buffer.concat(chunks).toString('utf8')));
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(addresses.map((a) => `route get ${a}\n`).join(''));
      });
    },
  };
}
