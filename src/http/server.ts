/**
 * The HTTP surface: /metrics (Prometheus text exposition), /-/healthy, /-/ready, POST /-/reload. Built by a
 * factory so tests can start it on port 0.
 */
import express, { type Express, type RequestHandler, type Response, type Router } from 'express';
import { createServer, type Server } from 'node:http';
import type { Writable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { authorize } from '../api/auth.js';
import { ApiHttpError } from '../api/errors.js';
import { ErrorCodes } from '../lib/errors.js';
import type { ApiToken } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import { ByteBuffers, type FastRegistry } from '../metrics/fast.js';
import { negotiateEncoding } from './encoding.js';
import { checkPercentEncoding, jsonErrorHandler, notFoundHandler, onClientError } from './errors.js';
import { SyncGzip } from './sync-gzip.js';

export interface HttpDeps {
  readonly registry: Registry;
  readonly fast: FastRegistry;
  readonly ready: () => boolean;
  /** POST /-/reload: reloads the config file; ok=false keeps the running config */
  readonly reload?: () => Promise<{ ok: boolean; message: string }>;
  /** the REST target API (api/index.ts createApi().router), mounted at the root when present */
  readonly api?: Router;
  /**
   * the API tokens in force (`api.tokens`): when there are any, admin endpoints (POST
   * /-/reload) need a `write` token, like the API's writes
   */
  readonly tokens: () => readonly ApiToken[];
  readonly log: Logger;
  /** the status page (status/router.ts) at `/`; without it `/` is a plain link to /metrics */
  readonly status?: Router;
  /** told of each /metrics request (the heap compactor, lib/heap-compaction.ts) */
  readonly scrapes?: ScrapeHooks;
}

export interface ScrapeHooks {
  /** before the scrape's text is made */
  started(): void;
  /** once the scrape has been answered (or failed) */
  answered(): void;
}

/** What an unauthenticated client learns of a refused reload; the details are in the log. */
export const RELOAD_REFUSED_MESSAGE = 'the configuration file is invalid; the running configuration stays (details in the wireprobe log)';

/** zlib level of gzip-encoded scrapes */
const METRICS_GZIP_LEVEL = 1;
/** bytes a scrape may have queued before it waits for the socket to take them */
const STREAM_BUFFER_BYTES = 1024 * 1024;
/**
 * text a gzip scrape renders and compresses between two turns of the event loop (~20 ms of CPU
 * here): under probe overload each turn also carries the engine's work, so a 35 MB scrape in
 * 1 MB turns took 1.1-2.1 s to answer (bench/README.md, "Scrape turns")
 */
const GZIP_TURN_BYTES = 8 * 1024 * 1024;
/**
 * The buffers a scrape's text is packed into, reused once the socket has taken them (or once
 * they are compressed):
 * with fresh buffers, 10 000 targets cost 270-320 ms of CPU per plain scrape under the packaged
 * 1 MB semi-spaces, with these 90-140 (bench/README.md, "Scrape buffers"). A scrape has about
 * STREAM_BUFFER_BYTES of them in flight; as many are kept between scrapes (1.5 MB).
 */
const SCRAPE_BUFFER_BYTES = 256 * 1024;
const SCRAPE_BUFFERS_KEPT = Math.ceil(STREAM_BUFFER_BYTES / SCRAPE_BUFFER_BYTES) + 2;

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
function drainOrClose(res: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const buffers = new ByteBuffers(SCRAPE_BUFFER_BYTES, SCRAPE_BUFFERS_KEPT);

  /**
   * The per-target families (~35 MB with 10 000 targets) are streamed with backpressure, so a
   * scrape holds a few buffers in memory, not the whole text. The wait for 'drain' comes only
   * past STREAM_BUFFER_BYTES: one turn of the event loop per ~1 MB, not per buffer, so a scrape
   * takes tens of turns (each shared with the probing). A buffer goes back to the pool once the
   * socket has taken its bytes (the write's callback); after a failed write it is left to the
   * garbage collector.
   */
  const sendPlain = async (res: Response, head: string): Promise<void> => {
    res.write(head);
    for (const chunk of deps.fast.encoded(buffers)) {
      if (res.destroyed) return;
      res.write(chunk, (err) => {
        if (err == null) buffers.release(chunk);
      });
      if (res.writableLength > STREAM_BUFFER_BYTES) await drainOrClose(res);
    }
    res.end();
  };

  /**
   * gzip at level 1 (~38x smaller at a third of level 6's CPU) on the event loop, one buffer at a
   * time, each back in the pool as soon as it is compressed: the compressed bytes are ~3 % of
   * the text, so the socket rarely pushes back, and the scrape yields to the event loop after each
   * GZIP_TURN_BYTES of text instead. zlib's stream API, on the thread pool, cost ~45 ms more
   * CPU for 10 000 targets (bench/README.md, "Scrape gzip").
   */
  const sendGzip = async (res: Response, head: string): Promise<void> => {
    // before the header: a failure here is a 500 with a plain JSON body
    const gz = new SyncGzip(METRICS_GZIP_LEVEL, (bytes) => res.write(bytes));
    res.set('Content-Encoding', 'gzip');
    try {
      gz.write(Buffer.from(head, 'utf8'));
      let sinceTurn = 0;
      for (const chunk of deps.fast.encoded(buffers)) {
        if (res.destroyed) return;
        gz.write(chunk);
        buffers.release(chunk);
        sinceTurn += chunk.length;
        if (res.writableLength > STREAM_BUFFER_BYTES) {
          await drainOrClose(res);
          sinceTurn = 0;
        } else if (sinceTurn >= GZIP_TURN_BYTES) {
          await setImmediate();
          sinceTurn = 0;
        }
      }
      gz.end();
      res.end();
    } finally {
      gz.close();
    }
  };

  app.use(checkPercentEncoding);
  if (deps.api !== undefined) app.use(deps.api);
  app.get('/metrics', (req, res, next) => {
    const send = async (): Promise<void> => {
      const text = await deps.registry.metrics();
      const head = text.endsWith('\n') ? text : `${text}\n`;
      res.status(200).set('Content-Type', deps.registry.contentType).vary('Accept-Encoding');
      if (negotiateEncoding(req.headers['accept-encoding']) === 'gzip') await sendGzip(res, head);
      else await sendPlain(res, head);
    };
    deps.scrapes?.started();
    send()
      .catch(next)
      .finally(() => deps.scrapes?.answered());
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('wireprobe is healthy\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (deps.ready()) res.type('text/plain').send('wireprobe is ready\n');
    else res.status(503).type('text/plain').send('wireprobe is starting\n');
  });
  const reload = deps.reload;
  if (reload) {
    /** with tokens: a write token, and the refusal's details; without: open, details only in the log */
    const admin: RequestHandler = (req, res, next) => {
      const tokens = deps.tokens();
      const refused = tokens.length === 0 ? null : authorize(req.headers.authorization, tokens, 'write');
      res.locals.authenticated = tokens.length > 0;
      next(refused ?? undefined);
    };
    app.post('/-/reload', admin, (_req, res, next) => {
      reload()
        .then((r) => {
          if (r.ok) res.status(200).json({ status: 'ok', message: r.message });
          else res.status(422).json({ error: { code: 'CFG_ERR_INVALID', message: res.locals.authenticated === true ? r.message : RELOAD_REFUSED_MESSAGE } });
        })
        .catch(next);
    });
    app.all('/-/reload', (req, _res, next) => {
      next(new ApiHttpError(405, ErrorCodes.API_ERR_METHOD_NOT_ALLOWED, `${req.method} is not allowed here; allowed: POST`, { headers: { Allow: 'POST' } }));
    });
  }
  if (deps.status !== undefined) app.use(deps.status);
  app.get('/', (_req, res) => {
    res.type('text/html').send('<html><body><h1>wireprobe</h1><p><a href="/metrics">metrics</a></p></body></html>\n');
  });
  app.use(notFoundHandler);
  app.use(jsonErrorHandler(deps.log));
  return app;
}

/** global.http_header_timeout, http_request_timeout (seconds) and http_max_connections */
export interface HttpLimits {
  readonly headerTimeoutS: number;
  readonly requestTimeoutS: number;
  readonly maxConnections: number;
}

/** How often Node checks the header and request timeouts (its default, 30 s, would let a stalled client stay that much longer). */
const TIMEOUT_CHECK_MS = 1000;

export function listen(app: Express, host: string, port: number, limits: HttpLimits): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(
      {
        headersTimeout: limits.headerTimeoutS * 1000,
        requestTimeout: limits.requestTimeoutS * 1000,
        connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      },
      app,
    );
    server.maxConnections = limits.maxConnections;
    server.on('clientError', onClientError);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** The limits of a config's `global` section. */
export const httpLimits = (g: { http_header_timeout: number; http_request_timeout: number; http_max_connections: number }): HttpLimits => ({
  headerTimeoutS: g.http_header_timeout,
  requestTimeoutS: g.http_request_timeout,
  maxConnections: g.http_max_connections,
});
