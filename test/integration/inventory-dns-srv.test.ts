/**
 * The dns-srv plugin against a tiny DNS responder on 127.0.0.1 (UDP, port 0, real packets on
 * loopback): records become targets and follow changes; NXDOMAIN and a silent server keep the
 * last good list.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { failures, inventoriesOf, until } from './inventory-harness.js';

interface Srv {
  readonly target: string;
  readonly port: number;
}

type Behaviour = { records: Srv[] } | 'nxdomain' | 'silent';

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l !== '');
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

/** End offset of the question section (one question), or -1. */
function questionEnd(query: Buffer): number {
  let at = 12;
  while (at < query.length && query[at] !== 0) at += query[at]! + 1;
  return at + 5 <= query.length ? at + 5 : -1;
}

function reply(query: Buffer, behaviour: Exclude<Behaviour, 'silent'>): Buffer | null {
  const end = questionEnd(query);
  if (query.length < 12 || end < 0) return null;
  const records = behaviour === 'nxdomain' ? [] : behaviour.records;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(behaviour === 'nxdomain' ? 0x8183 : 0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((r) => {
    const target = encodeName(r.target);
    const rr = Buffer.alloc(12 + 6);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(33, 2); // SRV
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(30, 6);
    rr.writeUInt16BE(6 + target.length, 10);
    rr.writeUInt16BE(10, 12); // priority
    rr.writeUInt16BE(5, 14); // weight
    rr.writeUInt16BE(r.port, 16);
    return Buffer.concat([rr, target]);
  });
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

async function responder(get: () => Behaviour): Promise<{ socket: Socket; port: number; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg: Buffer, peer: RemoteInfo) => {
    const b = get();
    queries.push(typeof b === 'string' ? b : 'records');
    const out = b === 'silent' ? null : reply(msg, b);
    if (out !== null) socket.send(out, peer.port, peer.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port, queries };
}

void test('dns-srv plugin: records, changes, NXDOMAIN and a silent server', async () => {
  let behaviour: Behaviour = { records: [{ target: 'b.lab.test', port: 443 }, { target: 'a.lab.test', port: 80 }] };
  const dns = await responder(() => behaviour);
  const { sources, registry, inventories } = inventoriesOf(
    `  - {name: srv, plugin: dns-srv, interval: 0.2, timeout: 1, options: {name: _web._tcp.lab.test, server: "127.0.0.1:${dns.port}"}, defaults: {groups: [g1]}}`,
  );
  try {
    inventories.start();
    await sources.until(() => sources.names('inventory:srv').length === 2, 3000);
    assert.deepEqual(sources.names('inventory:srv'), ['srv_a.lab.test_80', 'srv_b.lab.test_443']);
    assert.deepEqual(sources.current.get('inventory:srv')?.map((t) => [t.destination, t.type, t.dst_port]), [['a.lab.test', 'TCPsyn', 80], ['b.lab.test', 'TCPsyn', 443]]);
    for (const [b, reason] of [['nxdomain', 'dns'], ['silent', 'timeout']] as const) {
      const before = await failures(registry, reason);
      behaviour = b;
      await until(`${b} → ${reason}`, async () => (await failures(registry, reason)) > before, 8000);
      assert.equal(sources.names('inventory:srv').length, 2, `${b}: last good list kept`);
    }
    behaviour = { records: [{ target: 'c.lab.test', port: 8443 }] };
    await sources.until(() => sources.names('inventory:srv').join() === 'srv_c.lab.test_8443', 8000);
    assert.ok(dns.queries.includes('silent') && dns.queries.includes('nxdomain'));
  } finally {
    await inventories.stop();
    dns.socket.close();
  }
});
