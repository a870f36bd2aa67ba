/**
 * The types of the semantic config rules: what JSON Schema cannot express (address syntax,
 * orders between values, names that must exist). The config-wide rules are in
 * config/semantic.ts; each host check kind declares the rules of its own instances
 * (a CheckConfigSide next to the kind under src/checks/, listed in src/checks/config-rules.ts). Rules run on the defaulted data.
 */
import type { Segment } from './errors.js';
import type { Issue } from './issue.js';
import type { Obj } from '../lib/obj.js';
import type { CheckInstanceConfig } from './types.js';

export interface RuleContext {
  /** true when the value at this path (or inside it) already has a schema problem */
  skip(segments: readonly Segment[]): boolean;
  /** true when the path is written in the file (not filled in by a default) */
  written(segments: readonly Segment[]): boolean;
}

/** What the rules found: errors reject the config, warnings are logged. */
export interface RuleFindings {
  readonly errors: Issue[];
  readonly warnings: Issue[];
}

/** A rule on one object of the defaulted data, located at `at` (e.g. `checks.routes[0]`): its errors. */
export type ConfigRule = (value: Obj, at: readonly Segment[], ctx: RuleContext) => Issue[];

/**
 * The config side of one host check kind (src/checks/<kind>-config.ts, registered in
 * src/checks/config-rules.ts): pure, so that config loading never loads the checks themselves.
 */
export interface CheckConfigSide {
  /**
   * What the schema cannot express about one instance (address families, regular expressions,
   * …): run when the config is loaded, on the defaulted data, after the rules every kind shares
   * (names unique within the kind, count_min <= count_max).
   */
  readonly rules?: ConfigRule;
  /** The instance's options in canonical form, when the valid config is built. */
  readonly canonical?: (options: CheckInstanceConfig) => CheckInstanceConfig;
}
