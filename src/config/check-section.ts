/**
 * Semantic rules of the `checks:` section that JSON Schema cannot express. Every kind shares
 * two (instance names unique within the kind, count_min <= count_max); the rest are the kind's
 * own (`CheckConfigSide.rules`, next to the kind, found through src/checks/config-rules.ts). Runs on the defaulted
 * data, like config/semantic.ts.
 */
import { checkConfigSides } from '../checks/config-rules.js';
import type { Segment } from './errors.js';
import type { Issue } from './issue.js';
import type { ConfigRule, RuleContext } from './rules.js';
import type { CheckKindName } from './types.js';
import { isObj, type Obj } from '../lib/obj.js';

function instances(section: Obj, kind: string): [number, Obj][] {
  const list = section[kind];
  return Array.isArray(list) ? list.flatMap((v: unknown, i) => (isObj(v) ? [[i, v] as [number, Obj]] : [])) : [];
}

function uniqueNames(kind: string, list: readonly [number, Obj][]): Issue[] {
  const seen = new Map<string, number>();
  const out: Issue[] = [];
  for (const [i, inst] of list) {
    const name = inst.name;
    if (typeof name !== 'string') continue;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else out.push({ segments: ['checks', kind, i, 'name'], message: `duplicate name "${name}" (also checks.${kind}[${first}].name)` });
  }
  return out;
}

const countOrder: ConfigRule = (inst, at, ctx) => {
  const { count_min: min, count_max: max } = inst;
  if (typeof min !== 'number' || typeof max !== 'number' || max >= min) return [];
  if (ctx.skip([...at, 'count_min']) || ctx.skip([...at, 'count_max'])) return [];
  const shownMin = ctx.written([...at, 'count_min']) ? `count_min (${min})` : `count_min (${min}, the default)`;
  return [{ segments: [...at, 'count_max'], message: `count_max (${max}) must be >= ${shownMin}` }];
};

/** The kind's own rules; none for a key that is not a kind (the schema reports it). */
function kindRules(kind: string): ConfigRule | undefined {
  return Object.hasOwn(checkConfigSides, kind) ? checkConfigSides[kind as CheckKindName]?.rules : undefined;
}

export function checkSectionIssues(section: unknown, ctx: RuleContext): Issue[] {
  if (!isObj(section)) return [];
  const out: Issue[] = [];
  for (const kind of Object.keys(section)) {
    const list = instances(section, kind);
    const rules = kindRules(kind);
    out.push(...uniqueNames(kind, list));
    for (const [i, inst] of list) {
      const at: Segment[] = ['checks', kind, i];
      out.push(...countOrder(inst, at, ctx));
      if (rules !== undefined) out.push(...rules(inst, at, ctx));
    }
  }
  return out;
}
