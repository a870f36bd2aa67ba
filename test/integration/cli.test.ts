import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireRoot, requireTools } from '../lab/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = `${root}dist/src/main.js`;

function run(argv: string[], prefix: string[] = []) {
  const [cmd, ...args] = [...prefix, process.execPath, main, ...argv];
  const r = spawnSync(cmd!, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('version prints the package version', () => {
  const r = run(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^wireprobe \d+\.\d+\.\d+\n$/);
});

void test('check-config accepts the embedded default config', () => {
  const r = run(['check-config', 'examples/wireprobe.yaml']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'examples/wireprobe.yaml: OK (2 targets, 1 groups)\n');
});

void test('check-config reports every problem with file, line, column and key, and no stack trace', () => {
  const f = 'test/fixtures/config/invalid-multiple.yaml';
  const r = run(['check-config', f]);
  assert.equal(r.code, 65);
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length >= 2);
  assert.match(lines[0]!, new RegExp(`^wireprobe: ${f}:3:15: global\\.probe_name: `));
  for (const l of lines.slice(1)) assert.match(l, new RegExp(`^${f}:\\d+:\\d+: \\S+: `));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

void test('a missing config file is one line naming the file', () => {
  const r = run(['run', '--config', '/nonexistent/wireprobe.yaml']);
  assert.equal(r.code, 65);
  assert.equal(r.stderr, 'wireprobe: cannot read config file "/nonexistent/wireprobe.yaml": no such file or directory (ENOENT)\n');
});

void test('bad usage exits 64 with the usage', () => {
  const r = run(['run', '--frobnicate']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /unknown argument --frobnicate/);
  assert.match(r.stderr, /usage: wireprobe run/);
});

void test('without CAP_NET_RAW: one line naming the capability and how to grant it, exit 77', () => {
  requireRoot();
  requireTools([{ bin: 'setpriv', pkg: 'util-linux' }]);
  const r = run(['run', '--config', 'examples/wireprobe.yaml'], ['setpriv', '--bounding-set', '-net_raw,-net_admin']);
  assert.equal(r.code, 77, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /CAP_NET_RAW/);
  assert.match(lines[0]!, /setcap cap_net_raw/);
  assert.match(lines[0]!, /AmbientCapabilities=CAP_NET_RAW/);
});
