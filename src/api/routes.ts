/**
 * The routes of /api/v1 (express 5 Router): targets, with authorization per route, JSON
 * bodies, request metrics by route template, and JSON errors with stable codes for
 * everything, including unknown routes and methods.
 */
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ApiConfig, ApiScope } from '../config/types.js';
import { ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { authorize } from './auth.js';
import { jsonBody } from './body.js';
import { ApiHttpError, errorBody, notFound, toHttpError } from './errors.js';
import { methodLabel, type ApiMetrics } from './metrics.js';
import { createTarget, deleteTarget, patchTarget, replaceTarget, type OpContext } from './operations.js';
import { apiView, findTarget, listTargets, parseFilters } from './present.js';
import type { ApiTargetStore } from './store.js';
import type { ApiSources } from './types.js';

export const API_PREFIX = '/api/v1';

export interface RoutesDeps {
  readonly store: ApiTargetStore;
  readonly sources: ApiSources;
  readonly settings: () => ApiConfig;
  readonly log: Logger;
  readonly metrics: ApiMetrics;
  /** the error to answer every request with (API starting or stopped), or null */
  readonly gate: () => ApiHttpError | null;
}

type Body = Readonly<Record<string, unknown>>;

function countRequests(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => {
      const route = req.route as { path?: unknown } | undefined;
      const template = typeof route?.path === 'string' ? `${API_PREFIX}${route.path}` : 'unmatched';
      metrics.requests.inc({ method: methodLabel(req.method), route: template, code: String(res.statusCode) });
    });
    next();
  };
}

function methodNotAllowed(allow: string): RequestHandler {
  return (req, _res, next) => {
    const message = `${req.method} is not allowed here; allowed: ${allow}`;
    next(new ApiHttpError(405, ErrorCodes.API_ERR_METHOD_NOT_ALLOWED, message, { headers: { Allow: allow } }));
  };
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toHttpError(err, log, { method: req.method, path: `${API_PREFIX}${req.path}` });
    if (res.headersSent) return;
    res.status(e.status).set(e.headers).json(errorBody(e));
  };
}

/** The /api/v1 router; mount it at API_PREFIX. */
export function v1Router(d: RoutesDeps, extra: (r: Router) => void): Router {
  const r = express.Router({ caseSensitive: true, strict: false });
  const need = (scope: ApiScope): RequestHandler => (req, _res, next) => {
    next(authorize(req.headers.authorization, d.settings().tokens, scope) ?? undefined);
  };
  const body = jsonBody(() => d.settings().body_limit_bytes);
  const ctx = (): OpContext => ({ sources: d.sources, settings: d.settings(), evaluate: (rec) => d.store.evaluate(rec) });
  const changed = (what: string, name: string, req: Request): void => d.log.info(`API target ${what}`, { target: name, client: req.ip });
  r.use(countRequests(d.metrics));
  r.use((_req, _res, next) => next(d.gate() ?? undefined));
  extra(r);
  r.route('/targets')
    .get(need('read'), (req, res) => {
      res.json({ targets: listTargets(d.sources, d.store.items, parseFilters(req.query)) });
    })
    .post(need('write'), body, async (req, res) => {
      const ev = await d.store.mutate(createTarget(ctx(), req.body as Body));
      changed('created', ev.record.name, req);
      res.status(201).location(`${API_PREFIX}/targets/${ev.record.name}`).json(apiView(ev, d.sources));
    })
    .all(methodNotAllowed('GET, HEAD, POST'));
  r.route('/targets/:name')
    .get(need('read'), (req, res) => {
      const view = findTarget(d.sources, d.store.items, req.params.name);
      if (view === undefined) throw notFound(req.params.name);
      res.json(view);
    })
    .put(need('write'), body, async (req, res) => {
      const { ev, created } = await d.store.mutate(replaceTarget(ctx(), req.params.name, req.body as Body));
      changed(created ? 'created' : 'replaced', ev.record.name, req);
      if (created) res.status(201).location(`${API_PREFIX}/targets/${ev.record.name}`);
      res.json(apiView(ev, d.sources));
    })
    .patch(need('write'), body, async (req, res) => {
      const ev = await d.store.mutate(patchTarget(ctx(), req.params.name, req.body as Body));
      changed('changed', ev.record.name, req);
      res.json(apiView(ev, d.sources));
    })
    .delete(need('write'), async (req, res) => {
      await d.store.mutate(deleteTarget(ctx(), req.params.name));
      changed('deleted', req.params.name, req);
      res.status(204).end();
    })
    .all(methodNotAllowed('GET, HEAD, PUT, PATCH, DELETE'));
  r.use((req, _res, next) => {
    next(new ApiHttpError(404, ErrorCodes.API_ERR_NOT_FOUND, `no route ${req.method} ${API_PREFIX}${req.path}`));
  });
  r.use(errorHandler(d.log));
  return r;
}
