/**
 * Semantic rules of the `inventories` section that JSON Schema cannot express: unique names,
 * http(s) URLs for `http-sd`, an IP address (and port) for the `dns-srv` server.
 */
import { ipFamily } from '../lib/address.js';
import { splitHostPort } from './host-port.js';
import type { Issue } from './issue.js';
import { isObj } from '../lib/obj.js';



function urlIssue(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const protocol = URL.canParse(url) ? new URL(url).protocol : null;
  return protocol === 'http:' || protocol === 'https:' ? null : `must be an http:// or https:// URL (got ${JSON.stringify(url)})`;
}

function serverIssue(server: unknown): string | null {
  if (typeof server !== 'string') return null;
  const hp = splitHostPort(server);
  return hp !== null && ipFamily(hp.host) !== null
    ? null
    : `must be an IP address, optionally with a port (192.0.2.53:5353, [2001:db8::53]:53) (got ${JSON.stringify(server)})`;
}

export function inventoryIssues(inventories: unknown): Issue[] {
  if (!Array.isArray(inventories)) return [];
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  inventories.forEach((inv: unknown, i) => {
    if (!isObj(inv)) return;
    const at = ['inventories', i];
    if (typeof inv.name === 'string') {
      const first = seen.get(inv.name);
      if (first === undefined) seen.set(inv.name, i);
      else issues.push({ segments: [...at, 'name'], message: `duplicate inventory name "${inv.name}" (first at inventories[${first}])` });
    }
    const options = isObj(inv.options) ? inv.options : {};
    const problem = inv.plugin === 'http-sd' ? urlIssue(options.url) : inv.plugin === 'dns-srv' ? serverIssue(options.server) : null;
    const key = inv.plugin === 'http-sd' ? 'url' : 'server';
    if (problem !== null) issues.push({ segments: [...at, 'options', key], message: problem });
  });
  return issues;
}
