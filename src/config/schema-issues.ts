/**
 * Turns ajv errors (and integers written as floats) into issues with key paths and
 * human-oriented messages. Only the few keywords used by schema/config.schema.json are
 * worded; anything else falls back to ajv's own message.
 */
import type { DefinedError, ErrorObject } from 'ajv/dist/2020.js';
import { closestKey, describeChoices, describeType, describeValue } from './describe.js';
import type { Segment } from './errors.js';
import type { FloatInteger } from './locate.js';
import type { Issue } from './issue.js';

/** The subset of JSON Schema that schema/config.schema.json uses, for walking it. */
export interface SchemaNode {
  readonly $ref?: string;
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode | boolean>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly $defs?: Readonly<Record<string, SchemaNode>>;
}

const NAME_PATTERN = '^[a-z0-9_\\-\\.]+$';
const NAME_RULE = 'must contain only lowercase letters, digits, "_", "-" and "."';

/** Splits a JSON pointer, turning list indexes into numbers by looking at the data. */
function pointerSegments(pointer: string, data: unknown): Segment[] {
  const segments: Segment[] = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    segments.push(segment);
    node = typeof node === 'object' && node !== null ? (node as Record<Segment, unknown>)[segment] : undefined;
  }
  return segments;
}

function patternMessage(pattern: string, value: unknown): string {
  const rule = pattern === NAME_PATTERN ? NAME_RULE : `must match the pattern ${pattern}`;
  return `${rule} (got ${describeValue(value)})`;
}

function unknownKeyMessage(key: string, parentSchema: unknown): string {
  const known = Object.keys((parentSchema as SchemaNode | undefined)?.properties ?? {});
  const guess = closestKey(key, known);
  return guess === undefined ? `unknown key "${key}"` : `unknown key "${key}" (did you mean "${guess}"?)`;
}

function requiredMessage(e: DefinedError & { keyword: 'required' }, value: unknown): string {
  const base = `missing required key "${e.params.missingProperty}"`;
  const type = (value as Record<string, unknown> | null)?.type;
  return e.schemaPath.endsWith('/then/required') && typeof type === 'string'
    ? `${base} (required when type is ${type})`
    : base;
}

function issueOf(e: DefinedError, data: unknown): Issue | null {
  const segments = pointerSegments(e.instancePath, data);
  const value: unknown = e.data;
  const at = (message: string, extra: Partial<Issue> = {}): Issue => ({ segments, message, ...extra });
  if (e.propertyName !== undefined) {
    const rule = e.keyword === 'pattern' ? NAME_RULE : (e.message ?? 'is invalid');
    return at(`invalid name ${JSON.stringify(e.propertyName)}: ${rule}`, {
      segments: [...segments, e.propertyName],
      anchor: 'key',
      path: segments,
    });
  }
  if (e.keyword === 'if' || e.keyword === 'propertyNames') return null; // summaries of errors reported on their own
  if (e.keyword === 'additionalProperties') {
    const key = e.params.additionalProperty;
    return at(unknownKeyMessage(key, e.parentSchema), { segments: [...segments, key], anchor: 'key', path: segments });
  }
  if (e.keyword === 'type') {
    const subject = segments.length === 0 ? 'the document ' : '';
    const message = `${subject}must be ${describeType(String(e.params.type))} (got ${describeValue(value)})`;
    return at(message, { typeError: true });
  }
  return at(wording(e, value));
}

function wording(e: DefinedError, value: unknown): string {
  const got = `(got ${describeValue(value)})`;
  if (
    e.keyword === 'minimum' ||
    e.keyword === 'maximum' ||
    e.keyword === 'exclusiveMinimum' ||
    e.keyword === 'exclusiveMaximum'
  ) {
    return `must be ${e.params.comparison} ${e.params.limit} ${got}`;
  }
  if (e.keyword === 'enum') return `must be one of ${describeChoices(e.params.allowedValues)} ${got}`;
  if (e.keyword === 'pattern') return patternMessage(e.params.pattern, value);
  if (e.keyword === 'maxLength') return `must be at most ${e.params.limit} characters long ${got}`;
  if (e.keyword === 'minLength') {
    return e.params.limit === 1 ? `must not be empty ${got}` : `must be at least ${e.params.limit} characters long ${got}`;
  }
  if (e.keyword === 'required') return requiredMessage(e, value);
  return e.message ?? `fails the "${e.keyword}" rule`;
}

function resolveRef(root: SchemaNode, node: SchemaNode | boolean | undefined): SchemaNode | undefined {
  if (typeof node !== 'object') return undefined;
  const ref = node.$ref;
  return ref?.startsWith('#/$defs/') ? resolveRef(root, root.$defs?.[ref.slice(8)]) : node;
}

function childSchema(node: SchemaNode, segment: Segment): SchemaNode | boolean | undefined {
  if (typeof segment === 'number') return node.items;
  const props = node.properties;
  return props !== undefined && Object.hasOwn(props, segment) ? props[segment] : node.additionalProperties;
}

function schemaTypeAt(root: SchemaNode, segments: readonly Segment[]): string | undefined {
  let node = resolveRef(root, root);
  for (const segment of segments) {
    if (node === undefined) return undefined;
    node = resolveRef(root, childSchema(node, segment));
  }
  return node?.type;
}

/** Keeps only the type problem of a value that has one: range or enum checks of a wrong type are noise. */
function dropShadowed(issues: readonly Issue[]): Issue[] {
  const typed = new Set(issues.filter((i) => i.typeError === true).map((i) => JSON.stringify(i.segments)));
  return issues.filter((i) => i.typeError === true || !typed.has(JSON.stringify(i.segments)));
}

export function schemaIssues(
  errors: readonly ErrorObject[],
  floats: readonly FloatInteger[],
  data: unknown,
  schema: SchemaNode,
): Issue[] {
  const issues = (errors as readonly DefinedError[]).flatMap((e) => issueOf(e, data) ?? []);
  for (const f of floats) {
    if (schemaTypeAt(schema, f.segments) === 'integer') {
      issues.push({ segments: f.segments, message: `must be an integer (got ${f.source})`, typeError: true });
    }
  }
  return dropShadowed(issues);
}
