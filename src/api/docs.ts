/**
 * The OpenAPI document (schema/openapi.yaml), served raw at /api/v1/openapi.yaml, as JSON at
 * /api/v1/openapi.json, and through Swagger UI at /api/ui/. The document holds a copy of the
 * config schema's target definition; a unit test fails when the two drift apart.
 */
import { readFileSync } from 'node:fs';
import express, { type Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { parse } from 'yaml';

/** dist/src/api/ → the package root, where schema/ is shipped. */
export const OPENAPI_URL = new URL('../../../schema/openapi.yaml', import.meta.url);

export interface OpenApiDocument {
  readonly text: string;
  readonly doc: Record<string, unknown>;
}

export function loadOpenApi(): OpenApiDocument {
  const text = readFileSync(OPENAPI_URL, 'utf8');
  return { text, doc: parse(text) as Record<string, unknown> };
}

/** Adds GET /openapi.json and /openapi.yaml to the /api/v1 router. */
export function documentRoutes(r: Router, openapi: OpenApiDocument): void {
  r.get('/openapi.json', (_req, res) => {
    res.json(openapi.doc);
  });
  r.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openapi.text);
  });
}

/** Swagger UI; mount at /api/ui. `/api/ui` redirects to `/api/ui/` so relative asset URLs resolve; unknown paths are 404. */
export function swaggerRouter(openapi: OpenApiDocument): Router {
  const r = express.Router();
  r.use((req, res, next) => {
    if (req.path === '/' && !req.originalUrl.split('?')[0]!.endsWith('/')) res.redirect(301, 'ui/');
    else next();
  });
  // the page at / only: setup() would answer every other path with it too (a path that is no
  // asset falls through to the app's JSON 404)
  r.use(swaggerUi.serveFiles(openapi.doc));
  r.get('/', swaggerUi.setup(openapi.doc, { customSiteTitle: 'wireprobe API' }));
  return r;
}
