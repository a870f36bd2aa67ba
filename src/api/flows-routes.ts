/**
 * GET /api/v1/flows: a bounded query on the flow store (time range, address/CIDR, port,
 * protocol, exporter and interface filters, one group key, order, limit), read-token auth like
 * the other reads, JSON errors with stable codes. Mount the router at API_PREFIX.
 */
import express, { type ErrorRequestHandler, type Router } from 'express';
import type { ApiConfig } from '../config/types.js';
import { flowsView, parseFlowQuery } from '../flows/query-params.js';
import type { FlowQueryable, FlowQueryResult } from '../flows/types.js';
import { ErrorCodes, isAppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { authorize } from './auth.js';
import { ApiHttpError, errorBody, toHttpError } from './errors.js';

/** default bound of one query, from the request to the answer */
export const FLOW_QUERY_TIMEOUT_MS = 10_000;

export interface FlowsRouteDeps {
  readonly store: FlowQueryable;
  /** the current `api:` settings (tokens) */
  readonly settings: () => ApiConfig;
  readonly log: Logger;
  /** Unix ms, for relative times (`from=15m`) */
  readonly wallMs: () => number;
  readonly queryTimeoutMs?: number;
}

/** What a store error becomes. */
function storeError(e: unknown, log: Logger): unknown {
  if (!isAppError(e)) return e;
  if (e.code === ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT) {
    return new ApiHttpError(503, ErrorCodes.API_ERR_QUERY_TIMEOUT, `${e.message}; narrow the time range or the filters`);
  }
  if (e.code === ErrorCodes.FLOWDB_ERR_BUSY) return new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, e.message, { headers: { 'Retry-After': '1' } });
  if (e.code === ErrorCodes.FLOWDB_ERR_QUERY_INVALID) return new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, e.message);
  if (e.code === ErrorCodes.FLOWDB_ERR_STORE || e.code === ErrorCodes.FLOWDB_ERR_LAYOUT) {
    log.error('flow query failed', { reason: e.message });
    return new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, 'the flow store is unavailable; see the wireprobe log', { headers: { 'Retry-After': '5' } });
  }
  return e;
}

export function flowsRouter(d: FlowsRouteDeps): Router {
  const r = express.Router({ caseSensitive: true, strict: false });
  const timeoutMs = d.queryTimeoutMs ?? FLOW_QUERY_TIMEOUT_MS;
  r.route('/flows')
    .get(
      (req, _res, next) => next(authorize(req.headers.authorization, d.settings().tokens, 'read') ?? undefined),
      async (req, res) => {
        const parsed = parseFlowQuery(req.query, d.wallMs());
        if (parsed.spec === undefined) throw new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, parsed.problems.join('; '));
        let result: FlowQueryResult;
        try {
          result = await d.store.query(parsed.spec, timeoutMs);
        } catch (e) {
          throw storeError(e, d.log);
        }
        res.json(flowsView(parsed.spec, result));
      },
    )
    .all((req, _res, next) => {
      next(new ApiHttpError(405, ErrorCodes.API_ERR_METHOD_NOT_ALLOWED, `${req.method} is not allowed here; allowed: GET, HEAD`, { headers: { Allow: 'GET, HEAD' } }));
    });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const e = toHttpError(err, d.log, { method: req.method, path: req.originalUrl.split('?')[0] ?? '' });
    if (res.headersSent) return;
    res.status(e.status).set(e.headers).json(errorBody(e));
  };
  r.use(onError);
  return r;
}
