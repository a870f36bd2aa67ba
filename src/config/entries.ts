/**
 * Target entries that do not come from the config file (REST API, dynamic inventories),
 * validated against the same schema and semantic rules as the file's `targets:` entries, one
 * entry at a time, so a bad entry is rejected with its reasons and the good ones are kept.
 */
import { buildTarget, type RawTarget } from './build.js';
import { semanticIssues } from './semantic.js';
import { formatKeyPath, type Segment } from './errors.js';
import { validator } from './load.js';
import { schemaIssues } from './schema-issues.js';
import type { Config, TargetConfig } from './types.js';

export interface EntryProblem {
  /** key path inside the entry, e.g. `dst_port` (empty for the entry itself) */
  readonly path: string;
  readonly message: string;
}

/** Problems as one line: `path: message` (the message alone for the entry itself), `; ` between. */
export function describeProblems(problems: readonly EntryProblem[]): string {
  return problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ');
}

export type EntryResult =
  | { readonly ok: true; readonly target: TargetConfig }
  | { readonly ok: false; readonly problems: readonly EntryProblem[] };

/** JSON-only copy: the validator fills in defaults, and callers keep their input. */
function copy(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null)) as unknown;
}

/**
 * Validates one target entry (the value of a `targets:` key in the file) named `name` against
 * the running config: its groups exist, its keys and values are those of the file format, with
 * defaults applied. Never throws on bad input.
 */
export function validateTargetEntry(name: string, entry: unknown, config: Config): EntryResult {
  const { schema, validate } = validator();
  const groups = Object.fromEntries(Object.keys(config.groups).map((g) => [g, {}]));
  const data = { global: copy(config.global), groups, targets: { [name]: copy(entry) } };
  validate(data);
  const within = (segments: readonly Segment[]): boolean => segments[0] === 'targets' && segments[1] === name;
  const schemaErrors = schemaIssues(validate.errors ?? [], [], data, schema);
  const semantic = semanticIssues(data, {
    skip: (segments) => schemaErrors.some((i) => segments.every((s, k) => i.segments[k] === s)),
    written: () => true,
  });
  const issues = [...schemaErrors, ...semantic.errors];
  if (issues.length > 0) {
    const problems = issues.map((i) => {
      const at = i.path ?? i.segments;
      return { path: within(at) ? formatKeyPath(at.slice(2)) : formatKeyPath(at), message: i.message };
    });
    return { ok: false, problems };
  }
  return { ok: true, target: buildTarget(name, data.targets[name] as RawTarget, config.global) };
}
