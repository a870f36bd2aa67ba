/**
 * The rules of the `api:` section that JSON Schema cannot express: every token is set exactly
 * once (inline or in a token file, read here), well formed and unique; `default_groups`
 * exist; `default_lifetime` fits `max_lifetime`. Token values never appear in messages.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import type { RuleContext } from './rules.js';
import type { Segment } from './errors.js';
import type { Issue } from './issue.js';
import type { ApiScope, ApiToken } from './types.js';
import { isObj, type Obj } from '../lib/obj.js';

/** Longest accepted token, in characters (and the most read from a token file, in bytes). */
export const MAX_TOKEN_LENGTH = 4096;
export const MIN_TOKEN_LENGTH = 16;
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
const TOKEN_RULE = `must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} visible ASCII characters without spaces`;

/** Reads a token file: at most MAX_TOKEN_LENGTH + 1 bytes, so a huge file cannot stall the load. */
export function readTokenFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_TOKEN_LENGTH + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0 || (n += got) === buf.length) break;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface ApiSectionResult {
  readonly errors: Issue[];
  /** the tokens in file order; complete only when `errors` is empty */
  readonly tokens: ApiToken[];
}



/** Why a token value is refused, without quoting it; null when it is good. */
function tokenProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string (the value is not shown)';
  const ok = value.length >= MIN_TOKEN_LENGTH && value.length <= MAX_TOKEN_LENGTH && TOKEN_CHARS.test(value);
  return ok ? null : `${TOKEN_RULE} (the value is not shown)`;
}

/** The system's reason of a failed read, e.g. `no such file or directory (ENOENT)`. */
function osReason(e: unknown): string {
  const message = errorMessage(e);
  const match = /^([A-Z]+): ([^,]+)/.exec(message);
  return match === null ? message : `${match[2]} (${match[1]})`;
}

function oneToken(entry: Obj, at: Segment[], dir: string, read: (path: string) => string): ApiToken | Issue {
  const hasToken = entry.token !== undefined;
  const file = entry.token_file;
  if (hasToken === (file !== undefined)) return { segments: at, message: 'set exactly one of token and token_file' };
  const scope = entry.scope as ApiScope;
  if (hasToken) {
    const problem = tokenProblem(entry.token);
    const source = `api.tokens[${String(at[2])}]`;
    return problem === null ? { token: entry.token as string, scope, source } : { segments: [...at, 'token'], message: problem };
  }
  const path = resolve(dir, file as string);
  const fileAt = [...at, 'token_file'];
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    return { segments: fileAt, message: `cannot read token file ${JSON.stringify(path)}: ${osReason(e)}` };
  }
  const token = text.trim();
  if (token === '') return { segments: fileAt, message: `token file ${JSON.stringify(path)} is empty` };
  const problem = tokenProblem(token);
  if (problem !== null) return { segments: fileAt, message: `the token in ${JSON.stringify(path)} ${problem}` };
  return { token, scope, source: path };
}

function tokenIssues(api: Obj, dir: string, read: (path: string) => string, ctx: RuleContext, out: ApiSectionResult): void {
  if (!Array.isArray(api.tokens)) return;
  const seen = new Map<string, number>();
  api.tokens.forEach((entry: unknown, i) => {
    const at: Segment[] = ['api', 'tokens', i];
    if (!isObj(entry) || ctx.skip(at)) return;
    const got = oneToken(entry, at, dir, read);
    if (!('token' in got)) {
      out.errors.push(got);
      return;
    }
    const first = seen.get(got.token);
    if (first !== undefined) out.errors.push({ segments: at, message: `same token as api.tokens[${first}]` });
    else seen.set(got.token, i);
    out.tokens.push(got);
  });
}

function groupIssues(api: Obj, groups: unknown, out: ApiSectionResult): void {
  if (!Array.isArray(api.default_groups)) return;
  api.default_groups.forEach((group: unknown, i) => {
    if (typeof group === 'string' && !(isObj(groups) && Object.hasOwn(groups, group))) {
      out.errors.push({ segments: ['api', 'default_groups', i], message: `group "${group}" does not exist` });
    }
  });
}

function lifetimeIssues(api: Obj, ctx: RuleContext, out: ApiSectionResult): void {
  const { default_lifetime: def, max_lifetime: max } = api;
  if (typeof def !== 'number' || typeof max !== 'number' || max === 0) return;
  if (ctx.skip(['api', 'default_lifetime']) || ctx.skip(['api', 'max_lifetime'])) return;
  if (def === 0 || def > max) {
    const message = `must be between 1 and max_lifetime (${max}); 0 (never expires) needs max_lifetime 0 (got ${def})`;
    out.errors.push({ segments: ['api', 'default_lifetime'], message });
  }
}

/**
 * Checks the `api:` section of defaulted data and reads its token files (relative paths are
 * relative to `dir`, the config file's directory) with `read`.
 */
export function checkApiSection(data: unknown, dir: string, read: (path: string) => string, ctx: RuleContext): ApiSectionResult {
  const out: ApiSectionResult = { errors: [], tokens: [] };
  if (!isObj(data) || !isObj(data.api)) return out;
  tokenIssues(data.api, dir, read, ctx, out);
  groupIssues(data.api, data.groups, out);
  lifetimeIssues(data.api, ctx, out);
  return out;
}
