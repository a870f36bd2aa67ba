import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ConntrackOptions } from '../../../src/checks/conntrack.js';

const SCHEMA = fileURLToPath(new URL('../../../../schema/config.schema.json', import.meta.url));

void describe('config schema: $defs/check_conntrack', () => {
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
  ajv.addSchema(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);
  const validate = ajv.getSchema('urn:wireprobe:config#/$defs/check_conntrack');

  void it('fills the defaults the check relies on', () => {
    assert.ok(validate);
    const data: Record<string, unknown> = { name: 'gw', netns: 'blue', talker_share_max: 0.5 };
    assert.equal(validate(data), true, JSON.stringify(validate.errors));
    const opts = data as unknown as ConntrackOptions;
    assert.deepEqual(
      [opts.top_n, opts.fill_ratio_max, opts.talker_min_flows, opts.talker_share_max, opts.timeout, opts.netns],
      [10, 0.9, 1000, 0.5, 10, 'blue'],
    );
  });

  void it('rejects out-of-range values and unsafe namespace names', () => {
    assert.ok(validate);
    for (const bad of [{ top_n: 101 }, { top_n: 0 }, { fill_ratio_max: 1.5 }, { talker_share_max: 0 }, { talker_min_flows: 0 }, { netns: '..' }, { netns: 'a/b' }, { netns: '' }]) {
      assert.equal(validate({ name: 'gw', ...bad }), false, JSON.stringify(bad));
    }
  });
});
