/**
 * Request bodies: JSON in UTF-8 only (415 otherwise), at most `body_limit_bytes` (413), well formed
 * (400), nested at most MAX_DEPTH levels (400) and free of keys that could reach an object
 * prototype (422), before any other code looks at them.
 */
import express, { type RequestHandler } from 'express';
import type { EntryProblem } from '../config/entries.js';
import { ErrorCodes } from '../lib/errors.js';
import { ApiHttpError, fromBodyParser, validationError } from './errors.js';
import { PROTOTYPE_KEYS } from './validate.js';

/** A target entry is 3 levels deep (entry → explicit_groups → register_to); this leaves room. */
export const MAX_DEPTH = 8;
const JSON_TYPES = new Set(['application/json', 'application/merge-patch+json']);

/**
 * Walks parsed JSON without recursion: its depth (a scalar is 0) capped at `maxDepth + 1`,
 * and the paths of forbidden keys.
 */
export function inspectJson(value: unknown, maxDepth: number): { depth: number; forbidden: EntryProblem[] } {
  const forbidden: EntryProblem[] = [];
  let depth = 0;
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length > 0) {
    const [node, level, path] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    depth = Math.max(depth, level + 1);
    if (depth > maxDepth) return { depth, forbidden };
    const entries: [string, unknown][] = Array.isArray(node)
      ? node.map((v, i) => [`[${i}]`, v])
      : Object.keys(node).map((k) => [k, (node as Record<string, unknown>)[k]]);
    for (const [key, child] of entries) {
      const at = key.startsWith('[') || path === '' ? `${path}${key}` : `${path}.${key}`;
      if (!key.startsWith('[') && PROTOTYPE_KEYS.has(key)) forbidden.push({ path: at, message: `the key "${key}" is not allowed` });
      else stack.push([child, level + 1, at]);
    }
  }
  return { depth, forbidden };
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The `charset` parameter of a Content-Type, lowercased and unquoted; null when absent. */
export function charsetOf(header: string | undefined): string | null {
  for (const param of (header ?? '').split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return null;
}

/** Parses a JSON object body into `req.body`; `limit()` is read per request (it may change on reload). */
export function jsonBody(limit: () => number): RequestHandler {
  let parser: { limit: number; handler: RequestHandler } | null = null;
  return (req, res, next) => {
    if (!JSON_TYPES.has(mediaType(req.headers['content-type']))) {
      const message = 'the request body must be JSON (Content-Type: application/json)';
      next(new ApiHttpError(415, ErrorCodes.API_ERR_UNSUPPORTED_MEDIA_TYPE, message));
      return;
    }
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
      next(new ApiHttpError(415, ErrorCodes.API_ERR_UNSUPPORTED_MEDIA_TYPE, 'the request body must be UTF-8 JSON (charset=utf-8 or none)'));
      return;
    }
    const max = limit();
    if (Number(req.headers['content-length'] ?? 0) > max) {
      // refused before reading: the connection closes after the answer instead of draining the body
      res.set('Connection', 'close');
      next(fromBodyParser({ type: 'entity.too.large' }, max));
      return;
    }
    if (parser?.limit !== max) {
      parser = { limit: max, handler: express.json({ limit: max, strict: true, inflate: false, type: () => true }) };
    }
    void parser.handler(req, res, (err?: unknown) => {
      if (err !== undefined) {
        next(fromBodyParser(err, max) ?? err);
        return;
      }
      next(checkShape(req.body));
    });
  };
}

/** undefined when the parsed body is acceptable, else the error to answer. */
function checkShape(body: unknown): ApiHttpError | undefined {
  const { depth, forbidden } = inspectJson(body, MAX_DEPTH);
  if (depth > MAX_DEPTH) {
    return new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, `the request body is nested deeper than ${MAX_DEPTH} levels`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return validationError([{ path: '', message: 'must be a JSON object' }]);
  return forbidden.length > 0 ? validationError(forbidden) : undefined;
}
