/**
 * The HTTP surface: /metrics (Prometheus text exposition), /-/healthy, /-/ready. Built by a
 * factory so tests can start it on port 0.
 */
import express, { type Express } from 'express';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { FastRegistry } from '../metrics/fast.js';

export interface HttpDeps {
  readonly registry: Registry;
  readonly fast: FastRegistry;
  readonly ready: () => boolean;
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', (_req, res, next) => {
    deps.registry
      .metrics()
      .then((text) => {
        res.status(200).set('Content-Type', deps.registry.contentType);
        // the per-target families are streamed in chunks: with 10 000 targets they are ~40 MB
        res.write(text.endsWith('\n') ? text : `${text}\n`);
        deps.fast.expose((chunk) => res.write(chunk));
        res.end();
      })
      .catch(next);
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('wireprobe is healthy\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (deps.ready()) res.type('text/plain').send('wireprobe is ready\n');
    else res.status(503).type('text/plain').send('wireprobe is starting\n');
  });
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
