/**
 * Config loading: YAML (1.1, as netprobify's PyYAML reads it) → ajv against
 * schema/config.schema.json (defaults applied) → semantic checks → frozen typed Config.
 * Every problem is reported at once, one line each, sorted by position.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { isScalar, visit, type Document, type YAMLError } from 'yaml';
import { AppError, ErrorCodes } from '../lib/errors.js';
import { checkApiSection, readTokenFile } from './api.js';
import { buildConfig, type RawConfig } from './build.js';
import { checkFlowsSection } from './flows.js';
import { checkOperationsSection } from './operations.js';
import { checkFleetSection } from './fleet.js';
import { semanticIssues } from './semantic.js';
import { ConfigError, formatProblem, sortProblems, type ConfigProblem, type Segment } from './errors.js';
import { toProblem, type Issue } from './issue.js';
import { createLocator, findFloatIntegers, type Locator } from './locate.js';
import { groupsOfTarget } from './membership.js';
import { schemaIssues, type SchemaNode } from './schema-issues.js';
import { parseYamlDocument } from './yaml-stream.js';
import type { Config } from './types.js';

export interface LoadedConfig {
  readonly config: Config;
  /** formatted like error lines: `<file>:<line>:<col>: <keypath>: <message>` */
  readonly warnings: string[];
}

/** dist/src/config/ → the package root, where schema/ is shipped. */
const SCHEMA_URL = new URL('../../../schema/config.schema.json', import.meta.url);

let compiled: { schema: SchemaNode; validate: ValidateFunction } | undefined;

export function validator(): { schema: SchemaNode; validate: ValidateFunction } {
  if (compiled === undefined) {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as SchemaNode;
    // compiled once per config thread, which ends 30 s after its last load (so often once per load): ajv's code optimizer costs more than it saves
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true, code: { optimize: false } });
    compiled = { schema, validate: ajv.compile(schema) };
  }
  return compiled;
}

interface Parsed {
  readonly doc: Document.Parsed;
  readonly locator: Locator;
  readonly data: unknown;
  readonly warnings: ConfigProblem[];
}

function yamlErrorText(e: YAMLError): string {
  return e.code === 'MULTIPLE_DOCS' ? 'the file must hold a single document' : e.message;
}

/**
 * Offsets of the keys that repeat an earlier key of their mapping (a merge key `<<` may repeat).
 * The yaml package's own check (`uniqueKeys`) compares each new key with every earlier one: with
 * 10 000 targets that was about 1 s of the parse's 1.5 s of CPU. A Set per mapping is linear.
 */
function duplicateKeyOffsets(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key) || key.value === '<<') continue;
        if (seen.has(key.value)) offsets.push(key.range?.[0] ?? 0);
        else seen.add(key.value);
      }
    },
  });
  return offsets;
}

function parseYaml(text: string, file: string): Parsed {
  const { doc, lineCounter } = parseYamlDocument(text, { version: '1.1', prettyErrors: false, uniqueKeys: false });
  const problem = (offset: number, message: string): ConfigProblem => ({
    ...lineCounter.linePos(offset),
    path: '',
    message,
  });
  const failures = [
    ...doc.errors.map((e) => [e.pos[0], yamlErrorText(e)] as const),
    ...duplicateKeyOffsets(doc).map((offset) => [offset, 'Map keys must be unique'] as const),
  ].sort((a, b) => a[0] - b[0]);
  if (failures.length > 0) {
    throw new ConfigError(ErrorCodes.CFG_ERR_YAML, file, failures.map(([offset, text]) => problem(offset, `invalid YAML: ${text}`)));
  }
  const warnings = doc.warnings.map((w) => problem(w.pos[0], `YAML: ${w.message}`));
  try {
    return { doc, locator: createLocator(doc, lineCounter), data: doc.toJS(), warnings };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigError(ErrorCodes.CFG_ERR_YAML, file, [problem(0, `invalid YAML: ${reason}`)]);
  }
}

/** Whether some issue lies at or inside `segments`. */
function hasIssueAt(issues: readonly Issue[], segments: readonly Segment[]): boolean {
  return issues.some((i) => segments.every((s, k) => i.segments[k] === s));
}

function membershipWarnings(config: Config): Issue[] {
  return Object.values(config.targets)
    .filter((t) => groupsOfTarget(config, t).length === 0)
    .map((t) => ({
      segments: ['targets', t.name],
      anchor: 'key' as const,
      message: 'belongs to no group; it will not be probed',
    }));
}

export function parseConfig(text: string, file: string): LoadedConfig {
  const { doc, locator, data, warnings: yamlWarnings } = parseYaml(text, file);
  const { schema, validate } = validator();
  validate(data);
  const schemaErrors = schemaIssues(validate.errors ?? [], findFloatIntegers(doc), data, schema);
  const ctx = {
    skip: (segments: readonly Segment[]) => hasIssueAt(schemaErrors, segments),
    written: (segments: readonly Segment[]) => locator.has(segments),
  };
  const semantic = semanticIssues(data, ctx);
  const api = checkApiSection(data, dirname(file), readTokenFile, ctx);
  const flows = checkFlowsSection(data, dirname(file), readTokenFile, ctx);
  const fleet = checkFleetSection(data, dirname(file), readTokenFile, ctx);
  const errors = [...schemaErrors, ...semantic.errors, ...api.errors, ...flows.errors, ...checkOperationsSection(data, ctx), ...fleet.errors];
  if (errors.length > 0) {
    throw new ConfigError(ErrorCodes.CFG_ERR_INVALID, file, errors.map((i) => toProblem(i, locator)));
  }
  const config = buildConfig(data as RawConfig, file, api.tokens, flows.postgresUrl, fleet.credentials);
  const warnings = [...semantic.warnings, ...membershipWarnings(config)].map((i) => toProblem(i, locator));
  return { config, warnings: sortProblems([...yamlWarnings, ...warnings]).map((p) => formatProblem(file, p)) };
}

/** The OS reason of a failed read, e.g. `no such file or directory (ENOENT)`. */
function readFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const match = /^([A-Z]+): ([^,]+)/.exec(message);
  return match === null ? message : `${match[2]} (${match[1]})`;
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const message = `cannot read config file ${JSON.stringify(path)}: ${readFailure(e)}`;
    throw new AppError(ErrorCodes.CFG_ERR_READ, message, { cause: e });
  }
  return parseConfig(text, path);
}
