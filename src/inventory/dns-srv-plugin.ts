/**
 * The `dns-srv` plugin: resolves an SRV name (node:dns Resolver, optionally against one given
 * server) and makes one entry per record: `hostname` `<target>:<port>`, `destination` the
 * record's target, `dst_port` its port. Any DNS error (NXDOMAIN and no-data included) fails the
 * listing, so a DNS outage keeps the last good list.
 */
import type { SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { InventoryError, type InventoryPlugin } from './types.js';

export interface DnsSrvPluginOptions {
  readonly name: string;
  /** `address` or `address:port` (`[v6]:port`); absent: the system's resolvers */
  readonly server?: string;
  readonly timeoutMs: number;
}

/** SRV records → the entry document, sorted so equal answers make equal lists. Pure. */
export function srvEntries(records: readonly SrvRecord[]): { targets: Record<string, unknown>[] } {
  const sorted = [...records].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
  return { targets: sorted.map((r) => ({ hostname: `${r.name}:${r.port}`, destination: r.name, dst_port: r.port })) };
}

export function dnsSrvPlugin(opts: DnsSrvPluginOptions): InventoryPlugin {
  return {
    async list(signal) {
      // the listing's timeout (the supervisor aborts, which cancels the query) is the one that counts
      const resolver = new Resolver({ timeout: opts.timeoutMs + 1000, tries: 1 });
      if (opts.server !== undefined) resolver.setServers([opts.server]);
      const cancel = (): void => resolver.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      try {
        return srvEntries(await resolver.resolveSrv(opts.name));
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new InventoryError('dns', `SRV ${opts.name}: ${code}`, { cause: e });
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    },
  };
}
