import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import { parseYamlDocument, type YamlOptions } from '../../../src/config/yaml-stream.js';

// Compiled to dist/test/unit/config/: the repository root is four levels up.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OPTIONS: YamlOptions = { version: '1.1', prettyErrors: false, uniqueKeys: false };

/** Everything of a parsed document the config loader or a reader of it could see. */
function snapshot(doc: Document.Parsed, lineCounter: LineCounter): unknown {
  const nodes: unknown[] = [];
  visit(doc, (key, node) => {
    const n = (node ?? {}) as Partial<Record<'range' | 'comment' | 'commentBefore' | 'spaceBefore' | 'type' | 'tag' | 'anchor' | 'source', unknown>>;
    nodes.push([key, node?.constructor.name, n.range, n.comment, n.commentBefore, n.spaceBefore, n.type, n.tag, n.anchor, n.source]);
  });
  const problems = (list: readonly { code: string; pos: readonly number[]; message: string }[]): unknown[] => list.map((e) => [e.code, e.pos, e.message]);
  const attempt = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (e) {
      return `throws: ${String(e)}`;
    }
  };
  return {
    data: attempt(() => doc.toJS({ mapAsMap: true, maxAliasCount: -1 })), text: attempt(() => doc.toString()),
    nodes, range: doc.range, comment: doc.comment, commentBefore: doc.commentBefore,
    errors: problems(doc.errors), warnings: problems(doc.warnings), lines: lineCounter.lineStarts,
  };
}

function assertSameAsParseDocument(text: string, name: string): void {
  const lineCounter = new LineCounter();
  const expected = snapshot(parseDocument(text, { ...OPTIONS, lineCounter }), lineCounter);
  const streamed = parseYamlDocument(text, OPTIONS);
  assert.deepEqual(snapshot(streamed.doc, streamed.lineCounter), expected, name);
}

/** the parser's corner cases: comments it moves between items, open values, explicit keys, errors */
const CASES = [
  'a: 1\n  # indented comment\nb: 2\n',
  'a:\n  b: 1\n  # c\n # d\n# e\nc: 2\n',
  '- a\n  # x\n- b: 1\n  c: 2\n# y\n- - x\n  - y\n',
  'base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\nn:\n  <<: [*b, {z: 3}]\n',
  '? a\n: 1\n? - x\n  - y\n: 2\n? b: 1\n: 3\n',
  '%YAML 1.1\n---\na: 1\n...\n# after\n',
  'a: 1\n---\nb: 2\n',
  '---\n- x\n---\n- y\n--- z\n',
  'a: |\n  text\n   more\nb: >-\n  folded\nc: "dq\n  multi"\nd: plain\n  multi line\n',
  'k:\n- 1\n- 2\nj: x\n',
  '# head\n\na: 1 # c1\n# c2\n\nb: # c3\n  c: 4\n# tail\n',
  'a: 1\na: 2\nb:\n  c: 1\n  c: 2\n',
  'a: [1, 2\nb: 3\n',
  'a: b: c\nd: 1\n',
  '  a: 1\n b: 2\n',
  'a:\n  - b\n   - c\n',
  '- a: 1\n  b: 2\n- c: 3\n d: 4\n',
  'a: &x\n  b: 1\nc: *x\nd: *y\n',
  '!!map\na: !!str 1\nb: !!int "2"\n',
  'a:\n    b: 1\n  c: 2\n',
  'a: 1\n- b\n',
  'a: 1\nb:\nc:\n  - \n  - d\n',
  'a: 1\n\n\n# c\n\n',
  '"a": 1\n\'b\': 2\n? |\n  c\n: 3\n',
  'a: 1\n  b: 2\n',
  '- - - a\n    - b\n  - c\n- d\n',
  '',
  '# only a comment\n',
  'plain scalar\n',
  '[1, 2]\n',
  'a: 1\n\tb: 2\n',
  'a:\n  - b: 1\n    # c\n  # d\n  - e\n',
];

/** the config fixtures and examples, with one line dropped or indented (YAML errors of all kinds) */
function files(): { name: string; text: string }[] {
  const dirs = ['test/fixtures/config/', 'examples/'];
  return dirs.flatMap((dir) =>
    readdirSync(ROOT + dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => ({ name: dir + f, text: readFileSync(ROOT + dir + f, 'utf8') })));
}

void describe('parseYamlDocument', () => {
  void it('composes the corner cases as parseDocument() does', () => {
    for (const [i, text] of CASES.entries()) assertSameAsParseDocument(text, `case ${i}: ${JSON.stringify(text)}`);
  });

  void it('composes the config fixtures and examples, and damaged copies of them, as parseDocument() does', () => {
    const all = files();
    assert.ok(all.length > 20);
    for (const { name, text } of all) {
      assertSameAsParseDocument(text, name);
      const lines = text.split('\n');
      for (let k = 1; k < Math.min(lines.length, 30); k += 4) {
        assertSameAsParseDocument(lines.filter((_, j) => j !== k).join('\n'), `${name} without line ${k}`);
        assertSameAsParseDocument(lines.map((l, j) => (j === k ? ` ${l}` : l)).join('\n'), `${name} with line ${k} indented`);
      }
    }
  });

  void it('composes a large mapping with comments, anchors and merge keys as parseDocument() does', () => {
    const targets = Array.from({ length: 300 }, (_, i) =>
      `  t${i}:${i % 7 === 0 ? ' # note' : ''}\n    <<: *defaults\n    destination: 198.18.${i >> 8}.${i & 255}\n${i % 5 === 0 ? '    # between\n' : ''}    nb_packets: ${i % 3}\n`);
    const text = `defaults: &defaults\n  type: ICMPping\n  timeout: 1\ntargets:\n${targets.join('')}# end\n`;
    assertSameAsParseDocument(text, 'large');
  });
});
