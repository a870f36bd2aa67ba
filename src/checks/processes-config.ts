/**
 * The config rules of the processes check: what it matches on is given, and the command-line
 * pattern compiles. Pure.
 */
import type { Segment } from '../config/errors.js';
import type { Issue } from '../config/issue.js';
import type { CheckConfigSide, ConfigRule } from '../config/rules.js';

function regexIssue(value: unknown, at: readonly Segment[]): Issue[] {
  if (typeof value !== 'string') return [];
  try {
    new RegExp(value);
    return [];
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    return [{ segments: at, message: `invalid regular expression: ${reason}` }];
  }
}

const processesRules: ConfigRule = (inst, at) => {
  const out = regexIssue(inst.cmdline_regex, [...at, 'cmdline_regex']);
  if (inst.process_name === undefined && inst.cmdline_regex === undefined) {
    out.push({ segments: at, message: 'needs process_name or cmdline_regex (or both)' });
  }
  return out;
};

export const processesConfig: CheckConfigSide = { rules: processesRules };
