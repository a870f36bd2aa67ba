// The coded error catalog (src/lib/errors.ts): unique codes, each documented and used, and no
// plain `throw new Error(` left in src/ without a written justification.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, ErrorMeanings } from '../../../src/lib/errors.js';
import { REPO_ROOT } from '../../lab/index.js';

const SRC = join(REPO_ROOT, 'src');
const JUSTIFICATION = /\/\/ uncoded-error: \S/;

function sources(): { path: string; lines: string[] }[] {
  return readdirSync(SRC, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((f) => ({ path: relative(REPO_ROOT, f), lines: readFileSync(f, 'utf8').split('\n') }));
}

/**
 * `file:line` of every `throw new Error(` that carries no `// uncoded-error: <why>` comment on
 * its own line or on the line just above.
 */
export function unjustifiedPlainThrows(files: readonly { path: string; lines: readonly string[] }[]): string[] {
  const out: string[] = [];
  for (const { path, lines } of files) {
    lines.forEach((line, i) => {
      if (!/\bthrow new Error\(/.test(line)) return;
      if (JUSTIFICATION.test(line) || JUSTIFICATION.test(lines[i - 1] ?? '')) return;
      out.push(`${path}:${i + 1}`);
    });
  }
  return out;
}

void describe('error catalog', () => {
  const codes = Object.entries(ErrorCodes);

  void it('every code is unique and spelled as its key, AREA_ERR_WHAT', () => {
    for (const [key, code] of codes) {
      assert.equal(code, key);
      assert.match(code, /^[A-Z]+_ERR_[A-Z_]+$/);
    }
    assert.equal(new Set(codes.map(([, c]) => c)).size, codes.length);
  });

  void it('every code has a meaning, and only codes do', () => {
    assert.deepEqual(Object.keys(ErrorMeanings).sort(), codes.map(([k]) => k).sort());
    for (const [code, meaning] of Object.entries(ErrorMeanings)) {
      assert.ok(meaning.length >= 20 && meaning.endsWith('.'), `${code}: a sentence, not ${JSON.stringify(meaning)}`);
    }
  });

  void it('docs/errors.md lists every code with its meaning', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');
    for (const [code] of codes) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      assert.ok(row !== undefined, `docs/errors.md has no row for ${code}`);
      assert.ok(row.includes(ErrorMeanings[code as keyof typeof ErrorMeanings].replaceAll('|', '\\|')), `${code}: stale meaning`);
    }
  });

  void it('every code is used in src/ (no dead codes)', () => {
    const text = sources()
      .filter((f) => f.path !== join('src', 'lib', 'errors.ts'))
      .map((f) => f.lines.join('\n'))
      .join('\n');
    const unused = codes.map(([c]) => c).filter((c) => !new RegExp(`\\b${c}\\b`).test(text));
    assert.deepEqual(unused, []);
  });

  void it('no plain `throw new Error(` in src/ without an `// uncoded-error:` justification', () => {
    assert.deepEqual(unjustifiedPlainThrows(sources()), []);
  });

  void it('the plain-throw scan flags an unjustified throw and accepts a justified one', () => {
    const files = [
      {
        path: 'src/x.ts',
        lines: [
          "if (a) throw new Error('bare');",
          '// uncoded-error: a build defect no caller can act on',
          "if (b) throw new Error('justified above');",
          "if (c) throw new Error('justified here'); // uncoded-error: same reason",
          "if (d) throw new AppError(ErrorCodes.CFG_ERR_INVALID, 'coded');",
          '// uncoded-error:',
          "if (e) throw new Error('empty justification');",
        ],
      },
    ];
    assert.deepEqual(unjustifiedPlainThrows(files), ['src/x.ts:1', 'src/x.ts:7']);
  });
});
