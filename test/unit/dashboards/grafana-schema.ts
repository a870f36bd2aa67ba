/**
 * Type-checks dashboard JSON against Grafana's published dashboard schema, as the
 * `@grafana/schema` package ships it: TypeScript types generated from Grafana's CUE schema
 * (dist/types/raw/dashboard/x/types.gen.d.ts, the raw `Dashboard`, without the hand-written
 * veneer that loosens some fields to `Record<string, unknown>`). There is no JSON Schema in the
 * package and no Grafana server here, so each document is inlined as an object literal assigned
 * to `Dashboard` in an in-memory program: contextual typing makes its string literals match the
 * literal unions, and excess-property checks catch unknown keys.
 *
 * The generated file declares the schema's value sets as TypeScript enums (`ThresholdsMode`,
 * `MappingType`, ...), which no JSON string can satisfy; they are rewritten as unions of their
 * values (with a namespace of per-member types, so that `MappingType.ValueToText` still names
 * `'value'`; a member named like a built-in type, `VariableRefresh.never`, gets no such alias).
 * Nothing else of the types is changed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const SCHEMA_TYPES = join(
  dirname(createRequire(import.meta.url).resolve('@grafana/schema/package.json')),
  'dist/types/raw/dashboard/x/types.gen.d.ts',
);

/** Names a type alias cannot have. */
const RESERVED_TYPE_NAMES = new Set(['any', 'bigint', 'boolean', 'never', 'number', 'object', 'string', 'symbol', 'undefined', 'unknown', 'void']);

/** `declare enum E { A = 'a', B = 1 }` → `type E = 'a' | 1` plus `namespace E { type A = 'a'; ... }`. */
export function enumsAsUnions(text: string): string {
  const sf = ts.createSourceFile('types.d.ts', text, ts.ScriptTarget.ES2022, true);
  const edits: { start: number; end: number; text: string }[] = [];
  for (const st of sf.statements) {
    if (!ts.isEnumDeclaration(st)) continue;
    const members = st.members.map((m) => {
      if (m.initializer === undefined) throw new Error(`${st.name.text}.${m.name.getText(sf)} has no explicit value`);
      return { name: m.name.getText(sf), value: m.initializer.getText(sf) };
    });
    const name = st.name.text;
    edits.push({
      start: st.getStart(sf),
      end: st.end,
      text: [
        `export type ${name} = ${members.map((m) => m.value).join(' | ')};`,
        `export declare namespace ${name} {`,
        ...members.filter((m) => !RESERVED_TYPE_NAMES.has(m.name)).map((m) => `  type ${m.name} = ${m.value};`),
        '}',
      ].join('\n'),
    });
  }
  let out = text;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es5.d.ts'],
  types: [],
};

/** The line of the JSON text that a position of the virtual source falls on (the JSON starts on line 2). */
const PREFIX = (typesPath: string): string =>
  `import type { Dashboard } from ${JSON.stringify(typesPath.replace(/\.d\.ts$/, ''))};\nexport const dashboard: Dashboard = `;

/**
 * Diagnostics of each document (name → JSON text) typed as `Dashboard`, as `line: message` with
 * the line of the JSON text; an empty list means the document conforms.
 */
export function dashboardDiagnostics(docs: ReadonlyMap<string, string>): Map<string, string[]> {
  const prefix = PREFIX(SCHEMA_TYPES);
  const virtual = new Map<string, string>([[SCHEMA_TYPES, enumsAsUnions(readFileSync(SCHEMA_TYPES, 'utf8'))]]);
  const names = new Map<string, string>();
  let i = 0;
  for (const [name, json] of docs) {
    const file = `/virtual/dashboard-${i++}.ts`;
    virtual.set(file, `${prefix}${json.trimEnd()};\n`);
    names.set(file, name);
  }
  const host = ts.createCompilerHost(OPTIONS);
  const base = { getSourceFile: host.getSourceFile.bind(host), fileExists: host.fileExists.bind(host), readFile: host.readFile.bind(host) };
  host.getSourceFile = (file, lang, ...rest) => {
    const text = virtual.get(file);
    return text === undefined ? base.getSourceFile(file, lang, ...rest) : ts.createSourceFile(file, text, lang);
  };
  host.fileExists = (file) => virtual.has(file) || base.fileExists(file);
  host.readFile = (file) => virtual.get(file) ?? base.readFile(file);
  const program = ts.createProgram([...names.keys()], OPTIONS, host);
  const global = program.getGlobalDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const schema = program.getSourceFile(SCHEMA_TYPES);
  const schemaProblems = schema === undefined ? ['the schema types were not loaded'] : program.getSemanticDiagnostics(schema).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const out = new Map<string, string[]>();
  for (const [file, name] of names) {
    const sf = program.getSourceFile(file)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    out.set(name, [
      ...global,
      ...schemaProblems,
      ...diags.map((d) => {
        const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
        return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      }),
    ]);
  }
  return out;
}
