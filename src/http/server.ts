/**
 * The HTTP surface: /metrics (Prometheus text exposition), /-/healthy, /-/ready, POST /-/reload. Built by a
 * factory so tests can start it on port 0.
 */
import express, { type Express, type Router } from 'express';
import type { Server } from 'node:http';
import type { Writable } from 'node:stream';
import type { Registry } from 'prom-client';
import type { FastRegistry } from '../metrics/fast.js';

export interface HttpDeps {
  readonly registry: Registry;
  readonly fast: FastRegistry;
  readonly ready: () => boolean;
  /** POST /-/reload: reloads the config file; ok=false keeps the running config */
  readonly reload?: () => Promise<{ ok: boolean; message: string }>;
  /** the REST target API (api/index.ts createApi().router), mounted at the root when present */
  readonly api?: Router;
}

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
  if (deps.api !== undefined) app.use(deps.api);
  app.get('/metrics', (_req, res, next) => {
    const send = async (): Promise<void> => {
      const text = await deps.registry.metrics();
      res.status(200).set('Content-Type', deps.registry.contentType);
      res.write(text.endsWith('\n') ? text : `${text}\n`);
      // the per-target families (~40 MB with 10 000 targets) are streamed with backpressure,
      // so a scrape holds a few chunks in memory, not the whole text
      for (const chunk of deps.fast.chunks()) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await drainOrClose(res);
      }
      res.end();
    };
    send().catch(next);
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
    app.post('/-/reload', (_req, res, next) => {
      reload()
        .then((r) => {
          if (r.ok) res.status(200).json({ status: 'ok', message: r.message });
          else res.status(422).json({ error: { code: 'CFG_ERR_INVALID', message: r.message } });
        })
        .catch(next);
    });
  }
  app.get('/', (_req, res) => {
    res.type('text/html').send('<html><body><h1>wireprobe</h1><p><a href="/metrics">metrics</a></p></body></html>\n');
  });
  return app;
}

export function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.on('error', reject);
  });
}
