/**
 * The generated references and where they live: docs/metrics.md from the metric declarations,
 * docs/config.md from schema/config.schema.json, docs/errors.md from src/lib/errors.ts. Used by
 * scripts/gen-docs.ts (`make docs`) and by the unit test that fails when the committed files are
 * stale.
 */
import { readFile } from 'node:fs/promises';
import { renderConfigReference, type JsonSchema } from './config-reference.js';
import { renderErrorsReference } from './errors-reference.js';
import { metricSections, renderMetricsReference } from './metrics-reference.js';

/** dist/scripts/docs/ → the repository root */
export const REPO_ROOT = new URL('../../../', import.meta.url);

export interface GeneratedDoc {
  /** relative to the repository root */
  readonly path: string;
  readonly text: string;
}

export async function generatedDocs(root: URL = REPO_ROOT): Promise<GeneratedDoc[]> {
  const schema = JSON.parse(await readFile(new URL('schema/config.schema.json', root), 'utf8')) as JsonSchema;
  return [
    { path: 'docs/metrics.md', text: renderMetricsReference(metricSections()) },
    { path: 'docs/config.md', text: renderConfigReference(schema) },
    { path: 'docs/errors.md', text: renderErrorsReference() },
  ];
}
