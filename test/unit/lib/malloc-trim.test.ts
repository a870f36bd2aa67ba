import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMallocTrim, MALLOC_TRIM_ADDON } from '../../../src/lib/malloc-trim.js';

void test('without the addon built: no trim, and the reason names the missing file', () => {
  const missing = join(tmpdir(), 'wireprobe-no-such-dir', 'malloc_trim.node');
  const r = loadMallocTrim(missing);
  assert.equal(r.trim, null);
  assert.match(r.reason, /not built \(npm run build:native\)/);
  assert.ok(r.reason.includes(missing), r.reason);
});

void test('a file that is not a loadable addon: no trim, and the loader\'s error in the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wireprobe-trim-'));
  try {
    const bogus = join(dir, 'malloc_trim.node');
    writeFileSync(bogus, 'not an ELF file');
    const r = loadMallocTrim(bogus);
    assert.equal(r.trim, null);
    assert.match(r.reason, /^cannot load .*malloc_trim\.node: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the built addon trims and says whether memory went back', { skip: existsSync(MALLOC_TRIM_ADDON) ? false : `${MALLOC_TRIM_ADDON} not built` }, () => {
  const r = loadMallocTrim();
  assert.equal(r.reason, '');
  assert.notEqual(r.trim, null);
  assert.equal(typeof r.trim?.trim(), 'boolean');
});
