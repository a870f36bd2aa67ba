import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import { PeerIndex } from '../../../src/targets/peer-index.js';

const h = (a: string): number => addrHash(parseIp(a)!, 0, parseIp(a)!.length);

void test('the targets probing an address follow their address changes', () => {
  const idx = new PeerIndex<string>();
  idx.move('a', null, ['198.18.0.1', '2001:db8::1']);
  idx.move('b', null, ['198.18.0.1']);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], ['a', 'b']);
  idx.move('a', ['198.18.0.1', '2001:db8::1'], ['198.18.0.2']);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], ['b']);
  assert.deepEqual([...idx.targets(h('2001:db8::1'))], []);
  assert.deepEqual([...idx.targets(h('198.18.0.2'))], ['a']);
  idx.move('b', ['198.18.0.1'], []);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], []);
});

void test('an address shared by several targets keeps them all until one is left, which is then its single owner', () => {
  const idx = new PeerIndex<string>();
  for (const t of ['a', 'b', 'c']) idx.move(t, null, ['198.18.0.1']);
  idx.move('a', null, ['198.18.0.1']);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], ['a', 'b', 'c']);
  idx.move('b', ['198.18.0.1'], []);
  idx.move('a', ['198.18.0.1'], []);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], ['c']);
  idx.move('d', null, ['198.18.0.1']);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], ['c', 'd']);
  idx.move('c', ['198.18.0.1'], []);
  idx.move('d', ['198.18.0.1'], []);
  idx.move('c', ['198.18.0.1'], []);
  assert.deepEqual([...idx.targets(h('198.18.0.1'))], []);
});
