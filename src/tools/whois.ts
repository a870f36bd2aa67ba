/**
 * WHOIS (RFC 3912): one line to TCP port 43, the answer until the server closes. The first
 * server (IANA's by default) refers to the registry's (`refer:` / `whois:`), a thin registry to
 * the registrar's (`Registrar WHOIS Server:`), ARIN to another RIR (`ReferralServer: whois://`).
 * Bounded: one deadline for the whole query, `maxBytes` per answer, `maxReferrals` hops; a
 * server named twice ends the chain. Only a classified query (query.ts) is ever sent.
 */
import { connect, type Socket } from 'node:net';
import { ipFamily, isHostname } from '../lib/address.js';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { RegistryQuery } from './query.js';

export interface WhoisOptions {
  readonly server: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly maxReferrals: number;
  readonly maxBytes: number;
}

export interface WhoisAnswer {
  readonly server: string;
  readonly port: number;
  readonly text: string;
}

export interface WhoisResult {
  readonly query: string;
  readonly kind: RegistryQuery['kind'];
  /** every server asked, in order; the last holds the most specific answer */
  readonly answers: readonly WhoisAnswer[];
  /** a referral not followed because maxReferrals was reached, or null */
  readonly referral_not_followed: string | null;
}

/** Socket errors that mean the server cannot be reached from here. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EADDRNOTAVAIL', 'EPIPE']);

export type Connect = (host: string, port: number) => Socket;

/** The next server an answer points to, as host and port, or null. */
export function referralOf(text: string, defaultPort: number): { host: string; port: number } | null {
  const re = /^\s*(?:refer|whois|Registrar WHOIS Server|ReferralServer)\s*:\s*(\S+)\s*$/gim;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const value = m[1]!;
    const url = /^([a-z]+):\/\/([^/:]+)(?::([0-9]{1,5}))?\/?$/i.exec(value);
    if (url !== null && url[1]!.toLowerCase() !== 'whois') continue; // rwhois://, http:// …
    const host = (url === null ? value : url[2]!).toLowerCase().replace(/\.$/, '');
    const port = url?.[3] === undefined ? defaultPort : Number(url[3]);
    if ((isHostname(host) || ipFamily(host) === 'ipv4') && port >= 1 && port <= 65535) return { host, port };
  }
  return null;
}

/** What to send: ARIN wants `n + <address>` and `a <asn>` to answer with the whole record. */
function requestLine(q: RegistryQuery, server: string): string {
  if (server === 'whois.arin.net') return q.kind === 'ip' ? `n + ${q.text}` : q.kind === 'asn' ? `a ${q.asn}` : q.text;
  return q.text;
}

function ask(conn: Connect, host: string, port: number, line: string, maxBytes: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = conn(host, port);
    let done = false;
    const finish = (err: AppError | null): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onAbort = (): void => finish(new AppError(ErrorCodes.TOOL_ERR_TIMEOUT, `WHOIS ${host}:${port} did not answer in time`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.end(`${line}\r\n`));
    socket.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxBytes) return finish(new AppError(ErrorCodes.TOOL_ERR_TOO_LARGE, `WHOIS ${host}:${port} sent more than ${maxBytes} bytes`));
      chunks.push(d);
    });
    socket.on('end', () => finish(null));
    socket.on('error', (e: Error & { code?: string }) => {
      const code = UNREACHABLE.has(e.code ?? '') ? ErrorCodes.TOOL_ERR_UNREACHABLE : ErrorCodes.TOOL_ERR_UPSTREAM;
      finish(new AppError(code, `WHOIS server ${host}:${port} cannot be reached (${e.code ?? errorMessage(e)}); is there internet access?`));
    });
  });
}

export async function whois(q: RegistryQuery, o: WhoisOptions, conn: Connect = (host, port) => connect({ host, port })): Promise<WhoisResult> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  const answers: WhoisAnswer[] = [];
  const seen = new Set<string>();
  let next: { host: string; port: number } | null = { host: o.server, port: o.port };
  while (next !== null) {
    const { host, port } = next;
    seen.add(`${host}:${port}`);
    const text = await ask(conn, host, port, requestLine(q, host), o.maxBytes, signal);
    answers.push({ server: host, port, text });
    next = referralOf(text, o.port);
    if (next !== null && seen.has(`${next.host}:${next.port}`)) next = null;
    if (next !== null && answers.length > o.maxReferrals) {
      return { query: q.text, kind: q.kind, answers, referral_not_followed: `${next.host}:${next.port}` };
    }
  }
  return { query: q.text, kind: q.kind, answers, referral_not_followed: null };
}
