import { test } from 'node:test';
import assert from 'node:assert/strict';
import { procLocalAddress, socketDrops } from '../../../src/flows/proc-udp.js';

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 6763: 0100007F:9C42 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 787216 2 00000000c5b22765 17
 6764: 00000000:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 787217 2 00000000c5b22766 0
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 6762: 00000000000000000000000001000000:9C41 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 787214 2 00000000183e223a 4
 6763: B80D0120000000000000000001000000:0807 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 787215 2 00000000183e223b 9
`;

void test('procLocalAddress: little-endian words, port in hex', () => {
  assert.equal(procLocalAddress('127.0.0.1', 40002), '0100007F:9C42');
  assert.equal(procLocalAddress('::1', 40001), '00000000000000000000000001000000:9C41');
  assert.equal(procLocalAddress('2001:db8::1', 2055), 'B80D0120000000000000000001000000:0807');
  assert.equal(procLocalAddress('eth0', 1), null);
});

void test('socketDrops: the drops column of the matching line, null when absent', () => {
  assert.equal(socketDrops(UDP, '0100007F:9C42'), 17);
  assert.equal(socketDrops(UDP, '00000000:0807'), 0);
  assert.equal(socketDrops(UDP6, '00000000000000000000000001000000:9C41'), 4);
  assert.equal(socketDrops(UDP6, procLocalAddress('2001:db8::1', 2055)!), 9);
  assert.equal(socketDrops(UDP, '0100007F:0001'), null);
  assert.equal(socketDrops('garbage\n\n', '0100007F:9C42'), null);
});
