/**
 * `host`, `host:port`, `[v6]`, `[v6]:port` and bare IPv6 literals, as written in Prometheus
 * HTTP SD targets and DNS server options. Pure.
 */
import { ipFamily } from '../lib/address.js';

export interface HostPort {
  readonly host: string;
  /** null when the text has no port */
  readonly port: number | null;
}

const PORT = /^[1-9][0-9]{0,4}$/;

function port(text: string): number | null {
  if (!PORT.test(text)) return null;
  const value = Number(text);
  return value <= 65535 ? value : null;
}

/** Splits host and port; null when the text is neither form or the port is out of 1..65535. */
export function splitHostPort(text: string): HostPort | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    const host = text.slice(1, close);
    if (close < 0 || ipFamily(host) !== 'ipv6') return null;
    const rest = text.slice(close + 1);
    if (rest === '') return { host, port: null };
    const p = rest.startsWith(':') ? port(rest.slice(1)) : null;
    return p === null ? null : { host, port: p };
  }
  if (ipFamily(text) === 'ipv6') return { host: text, port: null };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return text === '' ? null : { host: text, port: null };
  const host = text.slice(0, colon);
  const p = port(text.slice(colon + 1));
  return host === '' || host.includes(':') || p === null ? null : { host, port: p };
}
