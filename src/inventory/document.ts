/**
 * The entry document of schema/inventory.schema.json: parsing plugin output (JSON, or YAML for
 * files) and checking the document root and each entry. Pure apart from reading the schema
 * file once per validator.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { errorMessage } from '../lib/errors.js';
import { InventoryError } from './types.js';

/** dist/src/inventory/ → the package root, where schema/ is shipped. */
const SCHEMA_URL = new URL('../../../schema/inventory.schema.json', import.meta.url);

export interface DocumentValidator {
  /** the entries of a valid document; throws InventoryError(`schema`) otherwise */
  entries(doc: unknown): readonly unknown[];
  /** the problems of one entry against `$defs/entry` (empty when good) */
  entryProblems(entry: unknown): string[];
}

function describe(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const at = e.instancePath === '' ? '' : `${e.instancePath.slice(1).replaceAll('/', '.')}: `;
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : '';
    return `${at}${e.message ?? e.keyword}${extra}`;
  });
}

export function createDocumentValidator(): DocumentValidator {
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const root: ValidateFunction = ajv.compile(schema);
  const entry = ajv.getSchema('urn:wireprobe:inventory#/$defs/entry');
  // uncoded-error: the schema ships inside the package; without $defs/entry the build is broken, no caller can act on it
  if (entry === undefined) throw new Error('schema/inventory.schema.json has no $defs/entry');
  return {
    entries(doc) {
      if (!root(doc)) {
        const problems = describe(root.errors).slice(0, 5).join('; ');
        throw new InventoryError('schema', `not an inventory document: ${problems}`);
      }
      return (doc as { targets: unknown[] }).targets;
    },
    entryProblems(value) {
      return entry(value) ? [] : describe(entry.errors);
    },
  };
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** JSON text → value; throws InventoryError(`parse`). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InventoryError('parse', `invalid JSON: ${shorten(errorMessage(e))}`);
  }
}

/** YAML 1.2 text (JSON included) → value; throws InventoryError(`parse`). */
export function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const why = first.code === 'MULTIPLE_DOCS' ? 'the file must hold a single document' : first.message;
    throw new InventoryError('parse', `invalid YAML: ${shorten(why)}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new InventoryError('parse', `invalid YAML: ${shorten(errorMessage(e))}`);
  }
}
