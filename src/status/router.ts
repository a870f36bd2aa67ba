/**
 * The status page at `/` and its assets under /status/. The page shows what /metrics already
 * shows (and is as open); the tools and operations it offers go through the API with the
 * token typed into the page. Served with a strict Content-Security-Policy: no inline script or
 * style, no other origin, no framing.
 */
import express, { type Response, type Router } from 'express';
import type { StatusSection } from '../lib/status-section.js';
import type { ReloadRecord } from '../reload.js';
import type { TaskStatus } from '../targets/manager.js';
import { APP_JS, STYLE_CSS } from './assets.js';
import { renderPage, type Identity } from './page.js';
import { parseListQuery, selectRows } from './rows.js';

export interface StatusSources {
  identity(): Identity;
  tasks(): Iterable<TaskStatus>;
  reloads(): readonly ReloadRecord[];
  sections(): readonly StatusSection[];
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function secure(res: Response, type: string, cache: string): Response {
  return res.set({
    'Content-Type': type,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': cache,
  });
}

/** The HTML of `/` for a request's query. */
export function statusHtml(s: StatusSources, query: Readonly<Record<string, unknown>>): string {
  const q = parseListQuery(query);
  return renderPage({ identity: s.identity(), reloads: s.reloads(), query: q, page: selectRows(s.tasks(), q), sections: s.sections() });
}

export function statusRouter(s: StatusSources): Router {
  const r = express.Router();
  r.get('/', (req, res) => {
    secure(res, 'text/html; charset=utf-8', 'no-store').send(statusHtml(s, req.query));
  });
  r.get('/status/app.js', (_req, res) => {
    secure(res, 'text/javascript; charset=utf-8', 'no-cache').send(APP_JS);
  });
  r.get('/status/style.css', (_req, res) => {
    secure(res, 'text/css; charset=utf-8', 'no-cache').send(STYLE_CSS);
  });
  return r;
}
