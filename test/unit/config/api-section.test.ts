/** The `api:` config section: defaults, token files, and errors with file:line:col that never show a token. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-api-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.yaml');
const SECRET = 'Zx9-secret-token-value-0001';
writeFileSync(join(dir, 'writer.token'), `  ${SECRET}\n\n`);
writeFileSync(join(dir, 'empty.token'), ' \n');
writeFileSync(join(dir, 'spaced.token'), 'two words in a token file\n');

const BASE = ['global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups: {g1: {}}'].join('\n');
const load = (api: string) => parseConfig(`${BASE}\n${api}`, file);

void describe('api section: valid', () => {
  void it('is absent by default', () => {
    assert.equal(load('').config.api, undefined);
  });
  void it('gets its defaults', () => {
    assert.deepEqual(load('api: {}').config.api, {
      enabled: true,
      tokens: [],
      max_targets: 100,
      state_file: null,
      body_limit_bytes: 65536,
      default_lifetime: 0,
      max_lifetime: 0,
      default_groups: null,
    });
  });
  void it('reads token files relative to the config file, trimmed; resolves state_file; default_lifetime follows max_lifetime', () => {
    const api = load(
      ['api:', '  tokens:', '    - {token_file: writer.token, scope: write}', `    - {token: ${SECRET}-r}`, '  state_file: state/api.json', '  max_lifetime: 600', '  default_groups: [g1]'].join('\n'),
    ).config.api!;
    assert.deepEqual(api.tokens, [
      { token: SECRET, scope: 'write', source: join(dir, 'writer.token') },
      { token: `${SECRET}-r`, scope: 'read', source: 'api.tokens[1]' },
    ]);
    assert.equal(api.state_file, join(dir, 'state/api.json'));
    assert.equal(api.default_lifetime, 600);
    assert.deepEqual(api.default_groups, ['g1']);
  });
});

const INVALID: [string, string][] = [
  ['api:\n  tokens:\n    - {scope: read}', 'config.yaml:5:7: api.tokens[0]: set exactly one of token and token_file'],
  [`api:\n  tokens:\n    - {token: ${SECRET}, token_file: writer.token}`, 'config.yaml:5:7: api.tokens[0]: set exactly one of token and token_file'],
  ['api:\n  tokens:\n    - {token: short}', 'config.yaml:5:15: api.tokens[0].token: must be 16 to 4096 visible ASCII characters without spaces (the value is not shown)'],
  ['api:\n  tokens:\n    - {token: 12345678901234567890}', 'config.yaml:5:15: api.tokens[0].token: must be a string (the value is not shown)'],
  ['api:\n  tokens:\n    - {token_file: missing.token}', `config.yaml:5:20: api.tokens[0].token_file: cannot read token file ${JSON.stringify(join(dir, 'missing.token'))}: no such file or directory (ENOENT)`],
  ['api:\n  tokens:\n    - {token_file: empty.token}', `config.yaml:5:20: api.tokens[0].token_file: token file ${JSON.stringify(join(dir, 'empty.token'))} is empty`],
  ['api:\n  tokens:\n    - {token_file: spaced.token}', `config.yaml:5:20: api.tokens[0].token_file: the token in ${JSON.stringify(join(dir, 'spaced.token'))} must be 16 to 4096 visible ASCII characters without spaces (the value is not shown)`],
  [`api:\n  tokens:\n    - {token: ${SECRET}, scope: write}\n    - {token_file: writer.token}`, 'config.yaml:6:7: api.tokens[1]: same token as api.tokens[0]'],
  ['api:\n  tokens:\n    - {token_file: writer.token, scope: admin}', 'config.yaml:5:41: api.tokens[0].scope: must be one of read, write, operate (got "admin")'],
  ['api:\n  default_groups: [g1, nope]', 'config.yaml:4:24: api.default_groups[1]: group "nope" does not exist'],
  ['api:\n  max_lifetime: 60\n  default_lifetime: 61', 'config.yaml:5:21: api.default_lifetime: must be between 1 and max_lifetime (60); 0 (never expires) needs max_lifetime 0 (got 61)'],
  ['api:\n  max_lifetime: 60\n  default_lifetime: 0', 'config.yaml:5:21: api.default_lifetime: must be between 1 and max_lifetime (60); 0 (never expires) needs max_lifetime 0 (got 0)'],
  ['api:\n  body_limit_bytes: 10', 'config.yaml:4:21: api.body_limit_bytes: must be >= 256 (got 10)'],
  ['api:\n  port: 9000', 'config.yaml:4:3: api: unknown key "port"'],
];

void describe('api section: invalid', () => {
  for (const [api, message] of INVALID) {
    void it(message.slice(message.indexOf(' ') + 1), () => {
      assert.throws(() => load(api), (e: unknown) => {
        assert.equal((e as Error).message, `${dir}/${message}`);
        assert.ok(!(e as Error).message.includes(SECRET) && !(e as Error).message.includes('12345678901234567890'));
        return true;
      });
    });
  }
});
