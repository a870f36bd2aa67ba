/**
 * The routes of /api/v1/operations (on-demand ping, traceroute, mtr): start (operate scope,
 * JSON body), list, status, Server-Sent Events of an operation (past events replayed, then
 * live ones, heartbeat comments, closed once it ended) and cancel (operate scope). Reads need
 * the read scope. Not to be confused with api/operations.ts, the target changes of /targets.
 */
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ApiConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { ErrorCodes, isAppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { OperationRefused, type OperationsRecorder, type OperationsRegistry, type OperationView, type RefusalReason, type Starter } from '../operations/registry.js';
import { authenticate, type Principal } from './auth.js';
import { jsonBody } from './body.js';
import { ApiHttpError, errorBody, toHttpError } from './errors.js';

export const OPERATIONS_PATH = '/api/v1/operations';
/** An operation request is a few hundred bytes. */
export const OPERATION_BODY_LIMIT = 16_384;
/** A stream whose client reads slower than this much buffered output is closed. */
export const SSE_MAX_BUFFER = 1 << 20;

export interface OperationsRoutesDeps {
  readonly operations: OperationsRegistry;
  readonly api: () => ApiConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly recorder: OperationsRecorder;
  /** the error to answer every request with (starting or stopped), or null */
  readonly gate: () => ApiHttpError | null;
  /** milliseconds between heartbeat comments of an event stream */
  readonly heartbeatMs: number;
  /** event streams open now: each closes its stream (stop() calls them) */
  readonly streams: Set<() => void>;
}

const STATUS: Readonly<Record<RefusalReason, number>> = {
  auth: 403, disabled: 403, invalid: 422, packets: 422, duration: 422, source: 403, busy: 429, rate: 429, resolve: 422, denied: 403,
};

function refusedToHttp(e: OperationRefused): ApiHttpError {
  const headers: Record<string, string> = e.retryAfterS === undefined ? {} : { 'Retry-After': String(e.retryAfterS) };
  return new ApiHttpError(STATUS[e.reason], e.code, e.message, { ...(e.details === undefined ? {} : { details: e.details }), headers });
}

const notFound = (id: string): ApiHttpError =>
  new ApiHttpError(404, ErrorCodes.API_ERR_NOT_FOUND, `no operation ${JSON.stringify(id.slice(0, 64))} (finished ones are kept for operations.keep_for)`);

const linksOf = (id: string): { self: string; events: string } => ({ self: `${OPERATIONS_PATH}/${id}`, events: `${OPERATIONS_PATH}/${id}/events` });

const brief = (v: OperationView): Record<string, unknown> => ({ id: v.id, kind: v.kind, state: v.state, links: linksOf(v.id) });

function methodNotAllowed(allow: string): RequestHandler {
  return (req, _res, next) => {
    const message = `${req.method} is not allowed here; allowed: ${allow}`;
    next(new ApiHttpError(405, ErrorCodes.API_ERR_METHOD_NOT_ALLOWED, message, { headers: { Allow: allow } }));
  };
}

/** `Last-Event-ID` as a sequence number: replay starts after it; 0 when absent or not a number. */
function resumeFrom(req: Request): number {
  const header = req.headers['last-event-id'];
  const text = Array.isArray(header) ? header[0] : header;
  return text !== undefined && /^[0-9]{1,9}$/.test(text) ? Number(text) + 1 : 0;
}

export function operationsRouter(d: OperationsRoutesDeps): Router {
  const r = express.Router({ caseSensitive: true, strict: false });
  const who = (req: Request, scope: 'read' | 'operate'): Principal => {
    const got = authenticate(req.headers.authorization, d.api().tokens, scope);
    if (got instanceof ApiHttpError) {
      if (scope === 'operate') d.recorder.refused('auth');
      throw got;
    }
    return got;
  };
  const json = jsonBody(() => Math.min(d.api().body_limit_bytes, OPERATION_BODY_LIMIT));
  const body: RequestHandler = (req, res, next) => {
    json(req, res, (err?: unknown) => {
      if (err instanceof ApiHttpError && err.code === ErrorCodes.API_ERR_VALIDATION) {
        next(new ApiHttpError(422, ErrorCodes.OPS_ERR_INVALID, 'the request is not a valid operation', { ...(err.details === undefined ? {} : { details: err.details }) }));
      } else next(err);
    });
  };
  /** checked before the body is read; the principal goes to res.locals */
  const operate: RequestHandler = (req, res, next) => {
    res.locals.principal = who(req, 'operate');
    next();
  };
  const starter = (req: Request, res: Response): Starter => ({
    principal: (res.locals.principal as Principal).source ?? 'anonymous', origin: 'api', client: req.ip ?? 'unknown',
  });

  r.use((_req, _res, next) => next(d.gate() ?? undefined));
  r.route('/')
    .get((req, res) => {
      who(req, 'read');
      res.json({ operations: d.operations.list() });
    })
    .post(operate, body, async (req, res) => {
      const view = await d.operations.start(req.body, starter(req, res));
      res.status(202).location(linksOf(view.id).self).json(brief(view));
    })
    .all(methodNotAllowed('GET, HEAD, POST'));
  r.route('/:id')
    .get((req, res) => {
      who(req, 'read');
      const view = d.operations.get(req.params.id);
      if (view === undefined) throw notFound(req.params.id);
      res.json(view);
    })
    .delete(operate, (req, res) => {
      const view = d.operations.cancel(req.params.id, starter(req, res));
      if (view === undefined) throw notFound(req.params.id);
      res.status(view.state === 'running' ? 202 : 200).json(brief(view));
    })
    .all(methodNotAllowed('GET, HEAD, DELETE'));
  r.route('/:id/events')
    .get((req, res) => {
      who(req, 'read');
      stream(d, req, res);
    })
    .all(methodNotAllowed('GET, HEAD'));
  r.use((req, _res, next) => {
    next(new ApiHttpError(404, ErrorCodes.API_ERR_NOT_FOUND, `no route ${req.method} ${OPERATIONS_PATH}${req.path}`));
  });
  r.use(errorHandler(d.log));
  return r;
}

/** The event stream of one operation (text/event-stream). */
function stream(d: OperationsRoutesDeps, req: Request, res: Response): void {
  const id = String(req.params.id);
  if (d.operations.get(id) === undefined) throw notFound(id);
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.flushHeaders();
  let heartbeat: TimerHandle | null = null;
  /** set once subscribed; end() may come during subscribe(), before it is set */
  const sub: { off?: (() => void) | undefined } = {};
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    heartbeat?.cancel();
    sub.off?.();
    d.streams.delete(close);
    res.end();
  };
  const write = (text: string): void => {
    if (!open) return;
    res.write(text);
    if (res.writableLength > SSE_MAX_BUFFER) {
      d.log.warn('operation event stream closed: the client reads too slowly', { id, client: req.ip });
      close();
    }
  };
  const beat = (): void => {
    heartbeat = d.clock.setTimer(d.heartbeatMs, () => {
      write(': heartbeat\n\n');
      if (open) beat();
    });
  };
  d.streams.add(close);
  res.on('close', close);
  beat();
  sub.off = d.operations.subscribe(
    id,
    {
      event: (e, seq) => write(`id: ${seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`),
      end: close,
    },
    resumeFrom(req),
  );
  if (!open) sub.off?.();
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: ApiHttpError;
    if (err instanceof OperationRefused) e = refusedToHttp(err);
    else if (isAppError(err, ErrorCodes.SVC_ERR_STATE) && !(err instanceof ApiHttpError)) {
      e = new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, err.message);
    } else e = toHttpError(err, log, { method: req.method, path: `${OPERATIONS_PATH}${req.path}` });
    if (res.headersSent) return;
    res.status(e.status).set(e.headers).json(errorBody(e));
  };
}
