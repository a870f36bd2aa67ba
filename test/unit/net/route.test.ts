import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouteBatch } from '../../../src/net/route.js';

void test('ip -json -batch output maps each destination to its device and source', () => {
  // as printed by iproute2 6.1 for `route get` of three addresses, one of them unroutable
  const out = [
    '[{"type":"local","dst":"127.0.0.1","dev":"lo","prefsrc":"127.0.0.1","flags":[],"uid":0,"cache":["local"]}]',
    '[{"dst":"198.19.0.7","gateway":"198.18.0.1","dev":"veth0","prefsrc":"198.18.0.2","flags":[],"uid":0,"cache":[]}]',
    '[{"dst":"2001:db8:1::1","from":"::","gateway":"2001:db8::1","dev":"veth0","protocol":"static","prefsrc":"2001:db8::2","metric":1024,"flags":[],"pref":"medium"}]',
    'not json',
    '[{"dst":"192.0.2.1"}]',
  ].join('\n');
  const m = parseRouteBatch(out);
  assert.deepEqual([...m.entries()], [
    ['127.0.0.1', { dev: 'lo', prefsrc: '127.0.0.1' }],
    ['198.19.0.7', { dev: 'veth0', prefsrc: '198.18.0.2' }],
    ['2001:db8:1::1', { dev: 'veth0', prefsrc: '2001:db8::2' }],
  ]);
});
