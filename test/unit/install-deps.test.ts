// scripts/install-deps.sh is the single list of what `make run` and `make test` need. This test
// scans the sources (syntax only, TypeScript compiler API) for the commands they run and the
// packages their prerequisite checks name, and fails when one is not in that list.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { REPO_ROOT } from '../lab/index.js';

/** `"package command..."` entries of a bash array `name=( ... )` in install-deps.sh. */
export function packageTable(script: string, name: string): Map<string, string[]> {
  const body = new RegExp(`^${name}=\\(\\n([\\s\\S]*?)^\\)`, 'm').exec(script);
  if (body === null) throw new Error(`install-deps.sh has no ${name}=( ... ) array`);
  const table = new Map<string, string[]>();
  for (const line of body[1]!.split('\n')) {
    const m = /^\s*"([^"]+)"/.exec(line);
    if (m === null) continue;
    const [pkg, ...cmds] = m[1]!.split(/\s+/);
    table.set(pkg!, cmds.filter((c) => c !== '-'));
  }
  return table;
}

/** A command found in the sources, or a `{ bin, pkg }` requirement literal. */
export interface Use {
  readonly command: string;
  /** the package a requirement literal names */
  readonly pkg?: string;
  readonly at: string;
}

/** Calls whose array-literal arguments are argv vectors (first element = the command). */
const ARGV_CALLS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'runCommand', 'runChecked', 'exec', 'run', 'stream', 'listFlows']);
/** child_process functions whose first argument is the command. */
const CHILD_PROCESS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync']);
/** Wrappers whose argv goes on with another command: `ip netns exec NS cmd ...`. */
const WRAPPERS: readonly (readonly string[])[] = [['ip', 'netns', 'exec']];

function literal(e: ts.Expression | undefined): string | undefined {
  return e !== undefined && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) ? e.text : undefined;
}

function calleeName(call: ts.CallExpression): string | undefined {
  const c = call.expression;
  if (ts.isIdentifier(c)) return c.text;
  if (ts.isPropertyAccessExpression(c)) return c.name.text;
  return undefined;
}

/** Names a file imports from node:child_process. */
function childProcessImports(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    if (!['node:child_process', 'child_process'].includes(st.moduleSpecifier.text)) continue;
    const bindings = st.importClause?.namedBindings;
    if (bindings !== undefined && ts.isNamedImports(bindings)) for (const el of bindings.elements) names.add(el.name.text);
  }
  return names;
}

/** Commands an argv literal runs (the wrapped one too). */
function argvCommands(arr: ts.ArrayLiteralExpression): string[] {
  const words = arr.elements.map((e) => (ts.isSpreadElement(e) ? undefined : literal(e)));
  const first = words[0];
  if (first === undefined) return [];
  const out = [first];
  for (const w of WRAPPERS) {
    if (w.every((x, i) => words[i] === x)) {
      const inner = words[w.length + 1];
      if (inner !== undefined) out.push(inner);
    }
  }
  return out;
}

export function scanSource(fileName: string, text: string): Use[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const cp = childProcessImports(sf);
  const uses: Use[] = [];
  const at = (n: ts.Node): string => `${fileName}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const name = calleeName(n);
      if (name !== undefined && ts.isIdentifier(n.expression) && cp.has(name) && CHILD_PROCESS.has(name)) {
        // spawn('cmd', [args]): the array holds the arguments, not a command
        const cmd = literal(n.arguments[0]);
        if (cmd !== undefined) uses.push({ command: cmd, at: at(n) });
      } else if (name !== undefined && ARGV_CALLS.has(name)) {
        for (const arg of n.arguments) {
          if (ts.isArrayLiteralExpression(arg)) for (const command of argvCommands(arg)) uses.push({ command, at: at(arg) });
        }
      }
      if (name === 'findOnPath') {
        const cmd = literal(n.arguments[0]);
        if (cmd !== undefined) uses.push({ command: cmd, at: at(n) });
      }
    }
    // a ToolRequirement literal: { bin: 'x', pkg: 'y' }
    if (ts.isObjectLiteralExpression(n)) {
      const prop = (key: string): string | undefined => {
        for (const p of n.properties) {
          if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === key) return literal(p.initializer);
        }
        return undefined;
      };
      const bin = prop('bin');
      const pkg = prop('pkg');
      if (bin !== undefined && pkg !== undefined) uses.push({ command: bin, pkg, at: at(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return uses;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function scanTree(dir: string): Use[] {
  return tsFiles(join(REPO_ROOT, dir)).flatMap((f) => scanSource(relative(REPO_ROOT, f), readFileSync(f, 'utf8')));
}

/**
 * Words the scanner finds that are not system commands, each with its reason. Node.js and npm are
 * the one assumption install-deps.sh checks instead of installing.
 */
const NOT_PACKAGED: ReadonlyMap<string, string> = new Map([
  ['node', 'Node.js'],
  ['npm', 'comes with Node.js'],
  ['version', "wireprobe's own CLI (test/integration/cli.test.ts run())"],
  ['check-config', "wireprobe's own CLI (test/integration/cli.test.ts run())"],
  ['run', "wireprobe's own CLI (test/integration/cli.test.ts run())"],
  ['wpt-no-such-binary', 'test/integration/lab.test.ts: the missing tool of the requireTools message test'],
]);

const script = readFileSync(join(REPO_ROOT, 'scripts', 'install-deps.sh'), 'utf8');
const runTable = packageTable(script, 'run_packages');
const testTable = packageTable(script, 'test_packages');

function packageOf(table: ReadonlyMap<string, readonly string[]>, command: string): string | undefined {
  for (const [pkg, cmds] of table) if (cmds.includes(command)) return pkg;
  return undefined;
}

/** Problems of `uses` against `table`: commands without a package, requirement literals naming another package. */
function problems(uses: readonly Use[], table: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const u of uses) {
    // a path is not looked up on PATH (tests use missing ones on purpose)
    if (NOT_PACKAGED.has(u.command) || u.command.includes('/')) continue;
    const pkg = packageOf(table, u.command);
    if (u.pkg !== undefined && u.pkg !== 'wpt-pkg' && !table.has(u.pkg)) out.push(`${u.at}: package ${u.pkg} (for ${u.command}) is not in install-deps.sh`);
    else if (pkg === undefined) out.push(`${u.at}: command ${u.command} has no package in install-deps.sh`);
    else if (u.pkg !== undefined && u.pkg !== 'wpt-pkg' && u.pkg !== pkg) out.push(`${u.at}: ${u.command} comes from ${pkg} in install-deps.sh, not ${u.pkg}`);
  }
  return out;
}

void describe('install-deps.sh is the list of what make run / make test need', () => {
  void it('parses the two package tables', () => {
    assert.ok(runTable.has('iproute2') && runTable.get('iproute2')!.includes('ip'));
    assert.ok(testTable.has('iputils-ping') && testTable.get('iputils-ping')!.includes('ping'));
    const both = [...runTable.keys()].filter((p) => testTable.has(p));
    assert.deepEqual(both, [], 'a package is listed once');
  });

  void it('every command src/ runs has a package in run_packages', () => {
    const uses = scanTree('src');
    assert.ok(uses.some((u) => u.command === 'conntrack'), 'the scanner sees the conntrack check');
    assert.deepEqual(problems(uses, runTable), []);
  });

  void it('every command and requirement of test/, bench/ and scripts/ has a package in run_packages or test_packages', () => {
    const uses = ['test', 'bench', 'scripts'].flatMap(scanTree);
    assert.ok(uses.some((u) => u.command === 'ping' && u.pkg === 'iputils-ping'), 'the scanner sees the lab PING requirement');
    assert.deepEqual(problems(uses, new Map([...runTable, ...testTable])), []);
  });

  void it('the scanner finds requirements, child_process calls, argv vectors and wrapped commands', () => {
    // a made-up package no list has (spliced in, so the fixture text is no requirement of this file)
    const fake = 'frobnicator';
    const src = [
      "import { execFileSync } from 'node:child_process';",
      `const T = { bin: 'frob', pkg: '${fake}' };`,
      "execFileSync('zap', ['-x']);",
      "await runChecked(['ip', 'netns', 'exec', ns, 'nft', '-f', '-']);",
      "lab.spawn('probe', ['dnsmasq', '--keep-in-foreground']);",
      "spawn('probe', argv);", // a local spawn: 'probe' is a namespace, not a command
      "findOnPath('cat');",
    ].join('\n');
    const found = scanSource('x.ts', src).map((u) => (u.pkg === undefined ? u.command : `${u.command}/${u.pkg}`));
    assert.deepEqual(found.sort(), ['cat', 'dnsmasq', 'frob/frobnicator', 'ip', 'nft', 'zap']);
    const table = new Map([['iproute2', ['ip']], ['nftables', ['nft']], ['dnsmasq', ['dnsmasq']], ['coreutils', ['cat']], ['zapper', ['zap']]]);
    assert.deepEqual(problems(scanSource('x.ts', src), table), ['x.ts:2: package frobnicator (for frob) is not in install-deps.sh']);
  });
});
