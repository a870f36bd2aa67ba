/**
 * What a WHOIS or RDAP query is about: an AS number, an IP address or prefix, or a domain
 * name. Anything else is refused here, so no other text reaches a server.
 */
import { domainToASCII } from 'node:url';
import { isHostname } from '../lib/address.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import { parsePrefix, prefixText, type Prefix } from './ipcalc.js';

export type RegistryQuery =
  | { readonly kind: 'asn'; readonly text: string; readonly asn: number }
  | { readonly kind: 'ip'; readonly text: string; readonly prefix: Prefix }
  | { readonly kind: 'domain'; readonly text: string };

const MAX_ASN = 4294967295;

export function classifyQuery(input: string): RegistryQuery {
  const t = input.trim();
  const refuse = (): never => {
    throw new AppError(ErrorCodes.TOOL_ERR_INPUT, `not a domain name, IP address or prefix, or AS number: ${JSON.stringify(t.slice(0, 64))}`);
  };
  if (t.length === 0 || t.length > 253) refuse();
  const asn = /^(?:AS)?([0-9]{1,10})$/i.exec(t);
  if (asn !== null) {
    const n = Number(asn[1]);
    if (n > MAX_ASN) refuse();
    return { kind: 'asn', text: `AS${n}`, asn: n };
  }
  if (t.includes(':') || /^[0-9.]+(\/[0-9.]+)?$/.test(t)) {
    try {
      const prefix = parsePrefix(t);
      const text = prefix.prefix === prefix.bits ? prefixText(prefix).split('/')[0]! : prefixText(prefix);
      return { kind: 'ip', text, prefix };
    } catch {
      refuse();
    }
  }
  const ascii = domainToASCII(t.replace(/\.$/, '').toLowerCase());
  if (ascii === '' || !isHostname(ascii) || /^[0-9.]+$/.test(ascii)) refuse();
  return { kind: 'domain', text: ascii };
}
