/**
 * The configuration reference (docs/config.md), generated from schema/config.schema.json: one
 * table per object of the config (keys, types, defaults, allowed values, bounds, descriptions),
 * walked from the root through `$ref`s, maps, lists and `if`/`then` conditions.
 */

/** The JSON Schema keywords config.schema.json uses. */
export interface JsonSchema {
  readonly $ref?: string;
  readonly description?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema | boolean>>;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly uniqueItems?: boolean;
  readonly pattern?: string;
  readonly if?: JsonSchema;
  readonly then?: JsonSchema;
  readonly allOf?: readonly JsonSchema[];
  readonly $defs?: Readonly<Record<string, JsonSchema>>;
}

interface Section {
  readonly path: string;
  readonly node: JsonSchema;
  /** `if`/`then` condition under which this object applies, rendered */
  readonly when?: string;
}

interface Walk {
  readonly root: JsonSchema;
  readonly sections: Section[];
  /** object `$defs` already given a section: name → path, so repeats link instead */
  readonly seen: Map<string, string>;
}

function code(v: unknown): string {
  return `\`${JSON.stringify(v)}\``;
}

function refName(ref: string): string {
  if (!ref.startsWith('#/$defs/')) throw new Error(`unsupported $ref ${ref}`);
  return ref.slice('#/$defs/'.length);
}

/** The node with its `$ref` resolved; the node's own keywords win over the referenced ones. */
function resolve(root: JsonSchema, node: JsonSchema): JsonSchema {
  if (node.$ref === undefined) return node;
  const target = root.$defs?.[refName(node.$ref)];
  if (target === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
  const own: Record<string, unknown> = { ...node };
  delete own.$ref;
  return { ...resolve(root, target), ...own };
}

function isObject(n: JsonSchema): boolean {
  return n.type === 'object' || n.properties !== undefined;
}

function mapValue(n: JsonSchema): JsonSchema | undefined {
  return typeof n.additionalProperties === 'object' && n.properties === undefined ? n.additionalProperties : undefined;
}

function typeText(w: Walk, raw: JsonSchema, path: string): string {
  const n = resolve(w.root, raw);
  if (n.const !== undefined) return code(n.const);
  const value = mapValue(n);
  if (value !== undefined) return `map of name → ${typeText(w, value, `${path}.<name>`)}`;
  if (n.type === 'array' && n.items !== undefined) return `list of ${typeText(w, n.items, `${path}[]`)}`;
  if (isObject(n) && n.properties !== undefined) {
    const ref = raw.$ref === undefined ? undefined : refName(raw.$ref);
    const at = (ref !== undefined ? w.seen.get(ref) : undefined) ?? path;
    return `object, see [\`${at}\`](#${anchor(at)})`;
  }
  if (Array.isArray(n.type)) return n.type.join(' or ');
  if (typeof n.type === 'string') return n.type;
  if (n.enum !== undefined && n.enum.every((v) => typeof v === 'string')) return 'string';
  return 'any';
}

function constraints(root: JsonSchema, raw: JsonSchema): string {
  const n = resolve(root, raw);
  const out: string[] = [];
  if (n.enum !== undefined) out.push(`one of ${n.enum.map(code).join(', ')}`);
  if (n.minimum !== undefined) out.push(`≥ ${n.minimum}`);
  if (n.exclusiveMinimum !== undefined) out.push(`> ${n.exclusiveMinimum}`);
  if (n.maximum !== undefined) out.push(`≤ ${n.maximum}`);
  if (n.minLength !== undefined) out.push(`length ≥ ${n.minLength}`);
  if (n.maxLength !== undefined) out.push(`length ≤ ${n.maxLength}`);
  if (n.minItems !== undefined) out.push(`at least ${n.minItems} item${n.minItems === 1 ? '' : 's'}`);
  if (n.uniqueItems === true) out.push('unique items');
  if (n.pattern !== undefined) out.push(`pattern \`${n.pattern}\``);
  if (n.type === 'array' && n.items !== undefined && !isObject(resolve(root, n.items))) {
    const inner = constraints(root, n.items);
    if (inner !== '') out.push(`each: ${inner}`);
  }
  return out.join('; ');
}

/** `required` of `then` branches, keyed by property: "when `type` is one of …" */
function conditionalRequired(n: JsonSchema): Map<string, string> {
  const out = new Map<string, string>();
  for (const branch of [n, ...(n.allOf ?? [])]) {
    const cond = branch.if?.properties;
    if (cond === undefined || branch.then?.required === undefined) continue;
    const text = Object.entries(cond)
      .map(([k, v]) => (typeof v === 'object' && v.enum !== undefined ? `\`${k}\` is ${v.enum.map(code).join(' or ')}` : `\`${k}\` matches`))
      .join(' and ');
    for (const key of branch.then.required) out.set(key, `when ${text}`);
  }
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function anchor(path: string): string {
  return path.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
}

/** Queues the sections of the objects below `raw` (reached at `path`). */
function descend(w: Walk, raw: JsonSchema, path: string, when?: string): void {
  const n = resolve(w.root, raw);
  const value = mapValue(n);
  if (value !== undefined) return descend(w, value, `${path}.<name>`);
  if (n.type === 'array' && n.items !== undefined) return descend(w, n.items, `${path}[]`);
  if (n.properties === undefined) return;
  const ref = raw.$ref === undefined ? undefined : refName(raw.$ref);
  if (ref !== undefined && w.seen.has(ref)) return;
  if (ref !== undefined) w.seen.set(ref, path);
  w.sections.push(when === undefined ? { path, node: n } : { path, node: n, when });
  for (const [key, child] of Object.entries(n.properties)) {
    if (typeof child === 'object') descend(w, child, `${path}.${key}`);
  }
  for (const branch of n.allOf ?? []) {
    const cond = Object.entries(branch.if?.properties ?? {}).map(([k, v]) => (typeof v === 'object' && v.const !== undefined ? `${k}: ${typeof v.const === 'string' ? v.const : JSON.stringify(v.const)}` : k));
    for (const [key, child] of Object.entries(branch.then?.properties ?? {})) {
      if (typeof child === 'object') descend(w, child, `${path}.${key} (${cond.join(', ')})`, `with ${cond.map((c) => `\`${c}\``).join(' and ')}`);
    }
  }
}

function renderSection(w: Walk, s: Section): string[] {
  const req = new Set(s.node.required ?? []);
  const conditional = conditionalRequired(s.node);
  const rows = Object.entries(s.node.properties ?? {}).map(([key, child]) => {
    const c = typeof child === 'object' ? child : {};
    const n = resolve(w.root, c);
    const required = req.has(key) ? 'yes' : (conditional.get(key) ?? '');
    const dflt = n.default === undefined ? '' : code(n.default);
    const desc = n.description ?? '';
    return `| \`${key}\` | ${cell(typeText(w, c, `${s.path}.${key}`))} | ${cell(required)} | ${cell(dflt)} | ${cell(constraints(w.root, c))} | ${cell(desc)} |`;
  });
  const extra = s.node.additionalProperties === false ? 'Other keys are errors.' : '';
  return [
    `## \`${s.path}\``,
    '',
    ...[s.when === undefined ? '' : `Applies ${s.when}.`, s.node.description ?? '', extra].filter((t) => t !== '').map((t) => `${t}\n`),
    '| key | type | required | default | allowed | description |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

export function renderConfigReference(root: JsonSchema): string {
  const w: Walk = { root, sections: [], seen: new Map() };
  for (const [key, child] of Object.entries(root.properties ?? {})) {
    if (typeof child === 'object') descend(w, child, key);
  }
  const top = Object.entries(root.properties ?? {}).map(([key, child]) => {
    const n = typeof child === 'object' ? resolve(root, child) : {};
    const required = (root.required ?? []).includes(key) ? 'yes' : '';
    const summary = /^.*?\.(?=\s|$)/.exec(n.description ?? '')?.[0] ?? '';
    return `| \`${key}\` | ${cell(typeText(w, typeof child === 'object' ? child : {}, key))} | ${required} | ${cell(summary)} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated by `make docs` (scripts/gen-docs.ts) from schema/config.schema.json; do not edit. -->',
    '',
    `${root.description ?? ''}`,
    '',
    'Defaults are applied when a key is absent. `<name>` stands for a map key (a group or target name),',
    '`[]` for each item of a list.',
    '',
    '| section | type | required | summary |',
    '|---|---|---|---|',
    ...top,
    '',
    ...w.sections.flatMap((s) => renderSection(w, s)),
  ].join('\n');
}
