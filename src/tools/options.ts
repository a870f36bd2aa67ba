/** The WHOIS, RDAP and rate-limit options of a `tools:` config section (seconds become ms). */
import type { ToolsConfig } from '../config/types.js';
import type { RdapOptions } from './rdap.js';
import type { WhoisOptions } from './whois.js';

export const whoisOptions = ({ whois: w }: ToolsConfig): WhoisOptions => ({
  server: w.server, port: w.port, timeoutMs: w.timeout * 1000, maxReferrals: w.max_referrals, maxBytes: w.max_bytes,
});

export const rdapOptions = ({ rdap: r }: ToolsConfig): RdapOptions => ({
  bootstrapUrl: r.bootstrap_url, bootstrapTtlMs: r.bootstrap_ttl * 1000, timeoutMs: r.timeout * 1000, maxRedirects: r.max_redirects, maxBytes: r.max_bytes,
});

export const rateLimits = ({ rate_limit: l }: ToolsConfig): { perMinute: number; concurrent: number } => ({ perMinute: l.per_minute, concurrent: l.concurrent });
