/**
 * Mutation fuzzing of the flow decoder: valid datagrams of every kind (v5; v9 and IPFIX
 * templates, options with sampling, data, variable-length and enterprise fields, withdrawals)
 * mutated (bit flips, random bytes, length fields, truncation, extension, splices) and decoded
 * by one long-lived decoder from a few exporters. A throw out of decode() is a failure.
 */
import { FlowDecoder } from '../../src/packet/flow/decoder.js';
import { dataSet, ipfixDatagram, makeFlows, v5Datagram, v9Datagram, V4_FIELDS, V6_FIELDS, type Field } from './flow-builder.js';
import { rng } from './rng.js';

export interface FuzzResult {
  readonly datagrams: number;
  readonly throws: number;
  readonly flows: number;
  readonly errors: number;
  readonly firstThrow: string | null;
}

function corpus(): Uint8Array[] {
  const flows = makeFlows(10);
  const v6 = [{ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 2, proto: 6, bytes: 10, packets: 1, startMs: 1, endMs: 2 }];
  const varFields: Field[] = [{ id: 82, length: 65535 }, { id: 8, length: 4 }, { id: 1000, length: 3, enterprise: 9 }, { id: 1, length: 4 }];
  const optTpl = { kind: 'options' as const, templates: [{ id: 260, scope: [{ id: 302, length: 4 }], fields: [{ id: 305, length: 4 }, { id: 306, length: 4 }, { id: 34, length: 2 }] }] };
  const opt = { kind: 'data' as const, id: 260, fields: [{ id: 302, length: 4 }, { id: 305, length: 4 }, { id: 306, length: 4 }, { id: 34, length: 2 }], records: [[1, 1, 9, 0]] };
  const v9opt = { kind: 'options' as const, templates: [{ id: 270, scope: [{ id: 1, length: 4 }], fields: [{ id: 48, length: 1 }, { id: 34, length: 4 }] }] };
  const h9 = { seq: 1, sourceId: 1, uptimeMs: 5000, unixSecs: 1_700_000_000 };
  const hx = { seq: 1, domain: 1, exportSecs: 1_700_000_000 };
  return [
    v5Datagram({ seq: 1, uptimeMs: 5000, unixSecs: 1_700_000_000, sampling: 0x4010 }, flows),
    v9Datagram(h9, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }, dataSet(256, V4_FIELDS, flows)]),
    v9Datagram(h9, [v9opt, { kind: 'data', id: 270, fields: [{ id: 1, length: 4 }, { id: 48, length: 1 }, { id: 34, length: 4 }], records: [[0, 1, 100]] }]),
    v9Datagram(h9, [dataSet(256, V4_FIELDS, flows, 2)]),
    ipfixDatagram(hx, [{ kind: 'template', templates: [{ id: 300, fields: V6_FIELDS }, { id: 301, fields: varFields }] }, dataSet(300, V6_FIELDS, v6)]),
    ipfixDatagram(hx, [{ kind: 'data', id: 301, fields: varFields, records: [['eth0', '192.0.2.1', new Uint8Array(3), 100], [new Uint8Array(300), '192.0.2.2', new Uint8Array(3), 5]] }]),
    ipfixDatagram(hx, [optTpl, opt, dataSet(300, V6_FIELDS, v6, 3)]),
    ipfixDatagram(hx, [{ kind: 'withdraw', ids: [300] }, { kind: 'withdraw', ids: [3], options: true }]),
  ];
}

function mutate(r: ReturnType<typeof rng>, pool: readonly Uint8Array[]): Uint8Array {
  const base = pool[r.int(pool.length)]!;
  let d: Uint8Array = base.slice();
  const steps = 1 + r.int(4);
  for (let s = 0; s < steps; s++) {
    switch (r.int(7)) {
      case 0: // bit flips
        for (let k = 0; k < 1 + r.int(4); k++) if (d.length > 0) d[r.int(d.length)]! ^= 1 << r.int(8);
        break;
      case 1: // random byte
        if (d.length > 0) d[r.int(d.length)] = r.int(256);
        break;
      case 2: { // a 16-bit field (lengths, ids, counts) to an edge value
        if (d.length < 2) break;
        const o = r.int(d.length - 1);
        const v = [0, 1, 2, 3, 4, 255, 256, 65535, r.int(65536)][r.int(9)]!;
        d[o] = v >>> 8;
        d[o + 1] = v & 0xff;
        break;
      }
      case 3: // truncate
        d = d.subarray(0, r.int(d.length + 1));
        break;
      case 4: { // extend with random bytes
        const ext = r.bytes(r.int(64));
        const out = new Uint8Array(d.length + ext.length);
        out.set(d);
        out.set(ext, d.length);
        d = out;
        break;
      }
      case 5: { // splice the tail of another datagram
        const other = pool[r.int(pool.length)]!;
        const at = r.int(d.length + 1);
        const from = r.int(other.length + 1);
        const out = new Uint8Array(at + other.length - from);
        out.set(d.subarray(0, at));
        out.set(other.subarray(from), at);
        d = out;
        break;
      }
      default: // pure garbage with a valid version
        d = r.bytes(r.int(200));
        if (d.length >= 2) {
          d[0] = 0;
          d[1] = [5, 9, 10][r.int(3)]!;
        }
    }
  }
  return d;
}

/** Decodes `n` mutated datagrams (seeded); counts what escaped decode() as throws. */
export function fuzzFlowDecoder(n: number, seed: number): FuzzResult {
  const r = rng(seed);
  const pool = corpus();
  const d = new FlowDecoder({ maxExporters: 8, maxTemplates: 256, earlyMaxDatagrams: 50, earlyMaxAgeMs: 10_000 });
  const exporters = ['192.0.2.1', '192.0.2.2', '2001:db8::1'];
  let throws = 0;
  let flows = 0;
  let firstThrow: string | null = null;
  for (let i = 0; i < n; i++) {
    const dg = i % 10 === 0 ? pool[r.int(pool.length)]! : mutate(r, pool);
    try {
      d.decode(dg, exporters[r.int(exporters.length)]!, 1_700_000_000_000 + i);
    } catch (e) {
      throws++;
      firstThrow ??= `${e instanceof Error ? e.stack ?? e.message : String(e)} (datagram ${Buffer.from(dg).toString('hex')})`;
    }
    if (d.queue.records > 10_000) flows += d.decodeQueued().count;
  }
  flows += d.decodeQueued().count;
  let errors = 0;
  for (const st of [...d.exporters(), d.overflow]) for (const v of st.errors.values()) errors += v;
  return { datagrams: n, throws, flows, errors, firstThrow };
}
