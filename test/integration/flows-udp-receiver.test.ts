/**
 * The flow collector's UDP receiver (src/net/udp-receiver.ts) on loopback: the batched receiver
 * (our recvmmsg addon, built by `make build`) and the dgram fallback get the same datagrams, bytes
 * and sources; the addon reads many datagrams per batch, forces a receive buffer past
 * net.core.rmem_max (root: CAP_NET_ADMIN), counts the kernel's drops (SO_RXQ_OVFL) exactly as
 * /proc/net/udp does, counts a receive error and reads on after it, refuses a port in use and
 * frees it on close.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { procLocalAddress, socketDrops } from '../../src/flows/proc-udp.js';
import { openUdpReceiver, udpBatchAddon, type UdpReceiver, type UdpReceiverKind } from '../../src/net/udp-receiver.js';
import { requireRoot } from '../lab/index.js';
import { requireTools } from '../lab/require-tools.js';

interface Got {
  datagrams: { bytes: Buffer; source: string }[];
  batches: number[];
  open: number;
}

async function open(address: string, kind: UdpReceiverKind, receiveBufferBytes = 1 << 20, port = 0): Promise<{ rx: UdpReceiver; got: Got }> {
  const got: Got = { datagrams: [], batches: [], open: 0 };
  const rx = await openUdpReceiver({
    address, port, receiveBufferBytes,
    onBatchStart: () => void got.open++,
    // a copy: the buffer is reused by the next batch
    onDatagram: (buf, source) => void got.datagrams.push({ bytes: Buffer.from(buf), source }),
    onBatchEnd: () => void got.batches.push(got.datagrams.length - got.batches.reduce((s, n) => s + n, 0)),
    onError: (e) => assert.fail(e),
  }, kind);
  return { rx, got };
}

async function sender(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((r) => s.bind(0, address, r));
  return s;
}

/** sends each datagram (sent at once, in this tick, as far as the kernel takes them) and waits for every callback */
function sendAll(s: Socket, port: number, address: string, datagrams: readonly Uint8Array[]): Promise<void> {
  return Promise.all(datagrams.map((d) => new Promise<void>((resolve, reject) => s.send(d, port, address, (e) => (e ? reject(e) : resolve()))))).then(() => undefined);
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), `timed out waiting for ${what}`);
}

const payload = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

void test('udp receiver: the addon is built and loads', () => {
  assert.equal(udpBatchAddon().reason, '');
  assert.notEqual(udpBatchAddon().addon, null);
});

for (const kind of ['recvmmsg', 'dgram'] as const) {
  void test(`udp receiver (${kind}): IPv4 and IPv6 datagrams, bytes and sources intact, IPv4 sources on a dual-stack socket as IPv4 text`, async () => {
    const sizes = [1, 2, 1400, 9000, 65_507, 0, 300];
    for (const [bind, from, fromType, source] of [
      ['127.0.0.1', '127.0.0.2', 'udp4', '127.0.0.2'],
      ['::1', '::1', 'udp6', '::1'],
      ['::', '127.0.0.3', 'udp4', '127.0.0.3'],
    ] as const) {
      const { rx, got } = await open(bind, kind);
      assert.equal(rx.kind, kind);
      const s = await sender(fromType, from);
      const to = bind === '::' ? '127.0.0.1' : bind;
      await sendAll(s, rx.port, to, sizes.map((n, i) => payload(n, i)));
      await until(`${sizes.length} datagrams on ${bind}`, () => got.datagrams.length === sizes.length);
      assert.deepEqual(got.datagrams.map((d) => d.bytes.length), sizes);
      got.datagrams.forEach((d, i) => assert.ok(d.bytes.equals(payload(sizes[i]!, i)), `datagram ${i} on ${bind}`));
      assert.deepEqual(new Set(got.datagrams.map((d) => d.source)), new Set([source]));
      assert.equal(got.open, got.batches.length);
      s.close();
      rx.close();
    }
  });
}

void test('udp receiver (recvmmsg): datagrams queued together come in batches, sources from several senders', async () => {
  const { rx, got } = await open('127.0.0.1', 'recvmmsg');
  const a = await sender('udp4', '127.0.0.4');
  const b = await sender('udp4', '127.0.0.5');
  const N = 300;
  // queued in one tick: the socket is read after
  const sends = [sendAll(a, rx.port, '127.0.0.1', Array.from({ length: N }, (_, i) => payload(100, i))), sendAll(b, rx.port, '127.0.0.1', Array.from({ length: N }, (_, i) => payload(50, i)))];
  await Promise.all(sends);
  await until(`${2 * N} datagrams`, () => got.datagrams.length === 2 * N);
  assert.ok(got.batches.length < N, `${got.batches.length} batches for ${2 * N} datagrams`);
  assert.ok(Math.max(...got.batches) > 1);
  assert.equal(got.datagrams.filter((d) => d.source === '127.0.0.4' && d.bytes.length === 100).length, N);
  assert.equal(got.datagrams.filter((d) => d.source === '127.0.0.5' && d.bytes.length === 50).length, N);
  a.close();
  b.close();
  rx.close();
});

void test('udp receiver (recvmmsg): forces a receive buffer past net.core.rmem_max', async () => {
  requireRoot();
  const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const { rx } = await open('127.0.0.1', 'recvmmsg', 4 * max);
  // the kernel doubles what it is given (its bookkeeping)
  assert.equal(rx.receiveBufferBytes, 8 * max);
  rx.close();
});

void test('udp receiver (recvmmsg): kernel drops counted (SO_RXQ_OVFL), equal to /proc/net/udp', async () => {
  const { rx, got } = await open('127.0.0.1', 'recvmmsg', 4096);
  const s = await sender('udp4', '127.0.0.1');
  const N = 400;
  // sent in this tick, before the loop reads the socket: a 4 KiB buffer overflows
  await sendAll(s, rx.port, '127.0.0.1', Array.from({ length: N }, (_, i) => payload(1000, i)));
  await until('the queued datagrams', () => got.datagrams.length > 0 && got.datagrams.length < N);
  const received = got.datagrams.length;
  const proc = socketDrops(readFileSync('/proc/net/udp', 'utf8'), procLocalAddress('127.0.0.1', rx.port)!);
  assert.equal(proc, N - received);
  // the count rides on the datagrams queued after the drops
  await sendAll(s, rx.port, '127.0.0.1', [payload(10, 0)]);
  await until('one more datagram', () => got.datagrams.length === received + 1);
  assert.equal(rx.kernelDrops(), N - received);
  s.close();
  rx.close();
});

void test('udp receiver (recvmmsg): a port in use is refused with a coded error; close frees the port', async () => {
  const { rx } = await open('127.0.0.1', 'recvmmsg');
  await assert.rejects(open('127.0.0.1', 'recvmmsg', 1 << 20, rx.port), { code: 'NET_ERR_SOCKET', message: /Address already in use/ });
  rx.close();
  const again = await open('127.0.0.1', 'recvmmsg', 1 << 20, rx.port);
  assert.equal(again.rx.port, rx.port);
  assert.equal(again.rx.kernelDrops(), 0);
  again.rx.close();
  assert.equal(again.rx.kernelDrops(), null);
});

/**
 * Puts an error on the socket bound to 127.0.0.1:port in process pid, from outside: takes a
 * duplicate of its descriptor (pidfd_getfd, Linux 5.6, root), turns on IP_RECVERR (so that an ICMP
 * error sets the socket's pending error, unconnected as it is) and sends a datagram from it to a
 * closed port; the ICMP port unreachable that comes back is ECONNREFUSED on the socket.
 */
const INJECT_ERROR = `
import ctypes, os, socket, sys
pid, port, closed = map(int, sys.argv[1:4])
rows = [l.split() for l in open(f'/proc/{pid}/net/udp').read().splitlines()[1:]]
inode = next(r[9] for r in rows if r[1] == '0100007F:%04X' % port)
fdnum = next(int(f) for f in os.listdir(f'/proc/{pid}/fd') if os.readlink(f'/proc/{pid}/fd/{f}') == f'socket:[{inode}]')
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(438, os.pidfd_open(pid), fdnum, 0)  # pidfd_getfd on x86_64
if fd < 0:
    raise OSError(ctypes.get_errno(), 'pidfd_getfd')
s = socket.socket(fileno=fd)
s.setsockopt(socket.SOL_IP, 11, 1)  # IP_RECVERR
s.sendto(b'x', ('127.0.0.1', closed))
`;

void test('udp receiver (recvmmsg): a receive error on the socket is counted, and the socket is read on after it', async (t) => {
  requireRoot();
  requireTools([{ bin: 'python3', pkg: 'python3' }]);
  const { rx, got } = await open('127.0.0.1', 'recvmmsg');
  t.after(() => rx.close());
  assert.equal(rx.errors(), 0);
  const closed = await sender('udp4', '127.0.0.1');
  const closedPort = closed.address().port;
  closed.close();
  execFileSync('python3', ['-c', INJECT_ERROR, String(process.pid), String(rx.port), String(closedPort)]);
  await until('the error counted', () => rx.errors() === 1);
  assert.equal(rx.lastErrno(), 111); // ECONNREFUSED
  const s = await sender('udp4', '127.0.0.1');
  t.after(() => s.close());
  await sendAll(s, rx.port, '127.0.0.1', [payload(10, 1), payload(20, 2)]);
  await until('the datagrams sent after the error', () => got.datagrams.length === 2);
  assert.equal(rx.errors(), 1);
  rx.close();
  assert.equal(rx.errors(), 1);
});
