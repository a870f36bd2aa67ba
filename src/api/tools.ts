/**
 * The tools under /api/v1/tools (read scope): ipcalc, oui, whois, rdap. Query parameters are
 * checked (unknown or repeated ones are a 400); the tools' coded errors become HTTP statuses
 * here. WHOIS and RDAP go through one rate limiter (`tools.rate_limit`) shared by all clients.
 */
import type { RequestHandler, Router } from 'express';
import type { ApiToken, ToolsConfig } from '../config/types.js';
import { AppError, ErrorCodes, type ErrorCode } from '../lib/errors.js';
import { contains, describePrefix, split, summarise } from '../tools/ipcalc.js';
import type { OuiLookup } from '../tools/oui.js';
import { rateLimits, rdapOptions, whoisOptions } from '../tools/options.js';
import { classifyQuery } from '../tools/query.js';
import { RateLimitError, type RateLimiter } from '../tools/rate-limit.js';
import type { RdapClient } from '../tools/rdap.js';
import { whois, type Connect } from '../tools/whois.js';
import { authorize } from './auth.js';
import { ApiHttpError } from './errors.js';

export interface ToolsDeps {
  readonly tokens: () => readonly ApiToken[];
  /** the running config's `tools:` section (undefined only in configs built by hand) */
  readonly settings: () => ToolsConfig | undefined;
  readonly oui: OuiLookup;
  readonly rdap: RdapClient;
  readonly limiter: RateLimiter;
  /** WHOIS connections (node:net connect unless a test replaces it) */
  readonly connect?: Connect;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  TOOL_ERR_INPUT: 400,
  TOOL_ERR_LIMIT: 422,
  TOOL_ERR_UNREACHABLE: 502,
  TOOL_ERR_TIMEOUT: 504,
  TOOL_ERR_TOO_LARGE: 502,
  TOOL_ERR_UPSTREAM: 502,
  TOOL_ERR_NOT_FOUND: 404,
  TOOL_ERR_RATE_LIMIT: 429,
  TOOL_ERR_DATA: 500,
};

/** A tool's coded error as an API error; anything else is rethrown (a 500, logged). */
export function toolHttpError(e: unknown): ApiHttpError {
  if (e instanceof AppError && STATUS[e.code] !== undefined) {
    const headers: Record<string, string> = e instanceof RateLimitError ? { 'Retry-After': String(e.retryAfterS) } : {};
    return new ApiHttpError(STATUS[e.code]!, e.code, e.message, { headers });
  }
  throw e;
}

const bad = (message: string): ApiHttpError => new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, message);

/** The query parameters, each a string once, except those listed in `many` (arrays). */
function params(query: unknown, once: readonly string[], many: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    const list: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
    if (!once.includes(key) && !many.includes(key)) throw bad(`unknown query parameter ${JSON.stringify(key)}; known: ${[...once, ...many].join(', ')}`);
    const texts = list.filter((v): v is string => typeof v === 'string');
    if (texts.length !== list.length) throw bad(`the query parameter ${key} must be text`);
    if (many.includes(key)) out[key] = texts;
    else if (texts.length !== 1) throw bad(`the query parameter ${key} must be given once`);
    else out[key] = texts[0]!;
  }
  return out;
}

function required(p: Record<string, string | string[]>, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '') throw bad(`the query parameter ${key} is required`);
  return v;
}

function ipcalc(query: unknown, limits: ToolsConfig['ipcalc']): Record<string, unknown> {
  const p = params(query, ['contains', 'split'], ['prefix']);
  const prefixes = (p['prefix'] as string[] | undefined) ?? [];
  if (prefixes.length === 0) throw bad('the query parameter prefix is required');
  if (prefixes.length > 1) {
    if (p['contains'] !== undefined || p['split'] !== undefined) throw bad('contains and split take a single prefix');
    return { summary: summarise(prefixes, limits.max_prefixes) };
  }
  const info = describePrefix(prefixes[0]!);
  const out: Record<string, unknown> = { prefix: info };
  if (typeof p['contains'] === 'string') out['contains'] = { query: p['contains'], result: contains(prefixes[0]!, p['contains']) };
  if (typeof p['split'] === 'string') {
    if (!/^[0-9]{1,3}$/.test(p['split'])) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, 'split must be a prefix length');
    out['split'] = { prefix_length: Number(p['split']), subnets: split(prefixes[0]!, Number(p['split']), limits.max_subnets) };
  }
  return out;
}

/** Adds the /tools routes to the /api/v1 router. */
export function toolsRoutes(r: Router, d: ToolsDeps): void {
  const read: RequestHandler = (req, _res, next) => {
    next(authorize(req.headers.authorization, d.tokens(), 'read') ?? undefined);
  };
  const settings = (): ToolsConfig => {
    const s = d.settings();
    if (s === undefined) throw new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, 'the tools are not configured');
    return s;
  };
  const run = (fn: (req: Parameters<RequestHandler>[0]) => unknown): RequestHandler => async (req, res) => {
    try {
      res.json(await fn(req));
    } catch (e) {
      throw toolHttpError(e);
    }
  };
  r.get('/tools/ipcalc', read, run((req) => ipcalc(req.query, settings().ipcalc)));
  r.get('/tools/oui', read, run((req) => d.oui.lookup(required(params(req.query, ['mac']), 'mac'))));
  r.get('/tools/whois', read, run((req) => {
    const q = classifyQuery(required(params(req.query, ['query']), 'query'));
    const s = settings();
    return d.limiter.run(rateLimits(s), () => whois(q, whoisOptions(s), d.connect));
  }));
  r.get('/tools/rdap', read, run((req) => {
    const q = classifyQuery(required(params(req.query, ['query']), 'query'));
    const s = settings();
    return d.limiter.run(rateLimits(s), () => d.rdap.query(q, rdapOptions(s)));
  }));
}
