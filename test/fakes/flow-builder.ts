/**
 * Builds NetFlow v5, v9 and IPFIX datagrams for tests and benches: templates, options
 * templates, withdrawals, data sets (fixed, variable-length and enterprise fields), padding.
 */
import { parseIp } from '../../src/lib/address.js';

export interface FlowSpec {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly proto: number;
  readonly bytes: number;
  readonly packets: number;
  readonly inIf?: number;
  readonly outIf?: number;
  readonly tos?: number;
  readonly tcpFlags?: number;
  readonly nextHop?: string;
  readonly srcAs?: number;
  readonly dstAs?: number;
  /** sysUptime ms (v5, v9, IPFIX 22/21) */
  readonly first?: number;
  readonly last?: number;
  /** Unix ms (IPFIX 152/153) */
  readonly startMs?: number;
  readonly endMs?: number;
  readonly samplerId?: number;
}

export interface Field {
  readonly id: number;
  /** 65535: variable length */
  readonly length: number;
  readonly enterprise?: number;
}

/** a value per field: a number (big-endian in the field's length), an address, or raw bytes */
export type Value = number | string | Uint8Array;

export type SetSpec =
  | { readonly kind: 'template'; readonly templates: readonly { readonly id: number; readonly fields: readonly Field[] }[] }
  | { readonly kind: 'options'; readonly templates: readonly { readonly id: number; readonly scope: readonly Field[]; readonly fields: readonly Field[] }[] }
  /** IPFIX template withdrawal: ids in a template (or options template) set with field count 0 */
  | { readonly kind: 'withdraw'; readonly ids: readonly number[]; readonly options?: boolean }
  | { readonly kind: 'data'; readonly id: number; readonly fields: readonly Field[]; readonly records: readonly (readonly Value[])[]; readonly padding?: number }
  | { readonly kind: 'raw'; readonly id: number; readonly body: Uint8Array };

class Writer {
  bytes: number[] = [];
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(Math.floor(v / 0x10000) & 0xffff).u16(v & 0xffff);
  }
  uint(v: number, len: number): this {
    for (let i = len - 1; i >= 0; i--) this.u8(Math.floor(v / 2 ** (8 * i)) % 256);
    return this;
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]!);
    return this;
  }
  get length(): number {
    return this.bytes.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function addr(text: string, len: number): Uint8Array {
  const b = parseIp(text);
  if (b === null || b.length !== len) throw new Error(`bad address ${text} for a ${len}-byte field`);
  return b;
}

function value(w: Writer, f: Field, v: Value, ipfix: boolean): void {
  if (f.length === 65535) {
    if (!ipfix) throw new Error('variable length needs IPFIX');
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : typeof v === 'number' ? new Uint8Array(v) : v;
    if (b.length < 255) w.u8(b.length);
    else w.u8(255).u16(b.length);
    w.raw(b);
  } else if (typeof v === 'number') w.uint(v, f.length);
  else if (typeof v === 'string') w.raw(addr(v, f.length));
  else {
    if (v.length !== f.length) throw new Error('raw value length mismatch');
    w.raw(v);
  }
}

function fieldSpec(w: Writer, f: Field, ipfix: boolean): void {
  if (f.enterprise !== undefined) {
    if (!ipfix) throw new Error('enterprise fields need IPFIX');
    w.u16(f.id | 0x8000).u16(f.length).u32(f.enterprise);
  } else w.u16(f.id).u16(f.length);
}

function setBody(s: SetSpec, ipfix: boolean): { id: number; body: Uint8Array } {
  const w = new Writer();
  switch (s.kind) {
    case 'template':
      for (const t of s.templates) {
        w.u16(t.id).u16(t.fields.length);
        for (const f of t.fields) fieldSpec(w, f, ipfix);
      }
      return { id: ipfix ? 2 : 0, body: w.done() };
    case 'options':
      for (const t of s.templates) {
        if (ipfix) w.u16(t.id).u16(t.scope.length + t.fields.length).u16(t.scope.length);
        else w.u16(t.id).u16(t.scope.length * 4).u16(t.fields.length * 4);
        for (const f of [...t.scope, ...t.fields]) fieldSpec(w, f, ipfix);
      }
      if (!ipfix) while (w.length % 4 !== 0) w.u8(0);
      return { id: ipfix ? 3 : 1, body: w.done() };
    case 'withdraw':
      for (const id of s.ids) w.u16(id).u16(0);
      return { id: s.options === true ? 3 : 2, body: w.done() };
    case 'data':
      for (const r of s.records) s.fields.forEach((f, i) => value(w, f, r[i]!, ipfix));
      for (let i = 0; i < (s.padding ?? 0); i++) w.u8(0);
      return { id: s.id, body: w.done() };
    case 'raw':
      return { id: s.id, body: s.body };
  }
}

function sets(w: Writer, specs: readonly SetSpec[], ipfix: boolean): void {
  for (const s of specs) {
    const { id, body } = setBody(s, ipfix);
    w.u16(id).u16(body.length + 4).raw(body);
  }
}

export interface V9Header {
  readonly seq: number;
  readonly sourceId: number;
  readonly uptimeMs: number;
  readonly unixSecs: number;
}

export function v9Datagram(h: V9Header, specs: readonly SetSpec[]): Uint8Array {
  const w = new Writer();
  w.u16(9).u16(specs.length).u32(h.uptimeMs).u32(h.unixSecs).u32(h.seq).u32(h.sourceId);
  sets(w, specs, false);
  return w.done();
}

export interface IpfixHeader {
  readonly seq: number;
  readonly domain: number;
  readonly exportSecs: number;
}

export function ipfixDatagram(h: IpfixHeader, specs: readonly SetSpec[]): Uint8Array {
  const w = new Writer();
  w.u16(10).u16(0).u32(h.exportSecs).u32(h.seq).u32(h.domain);
  sets(w, specs, true);
  const out = w.done();
  out[2] = out.length >>> 8;
  out[3] = out.length & 0xff;
  return out;
}

export interface V5Header {
  readonly seq: number;
  readonly uptimeMs: number;
  readonly unixSecs: number;
  readonly unixNsecs?: number;
  readonly engineType?: number;
  readonly engineId?: number;
  /** the header's 16-bit sampling field (mode in the top two bits) */
  readonly sampling?: number;
}

export function v5Datagram(h: V5Header, flows: readonly FlowSpec[]): Uint8Array {
  const w = new Writer();
  w.u16(5).u16(flows.length).u32(h.uptimeMs).u32(h.unixSecs).u32(h.unixNsecs ?? 0).u32(h.seq);
  w.u8(h.engineType ?? 0).u8(h.engineId ?? 0).u16(h.sampling ?? 0);
  for (const f of flows) {
    w.raw(addr(f.src, 4)).raw(addr(f.dst, 4)).raw(addr(f.nextHop ?? '0.0.0.0', 4));
    w.u16(f.inIf ?? 0).u16(f.outIf ?? 0).u32(f.packets).u32(f.bytes).u32(f.first ?? 0).u32(f.last ?? 0);
    w.u16(f.srcPort).u16(f.dstPort).u8(0).u8(f.tcpFlags ?? 0).u8(f.proto).u8(f.tos ?? 0);
    w.u16(f.srcAs ?? 0).u16(f.dstAs ?? 0).u8(0).u8(0).u16(0);
  }
  return w.done();
}

/** IPv4 flow fields (v9 and IPFIX), in the order flowValues() fills them */
export const V4_FIELDS: readonly Field[] = [
  { id: 8, length: 4 }, { id: 12, length: 4 }, { id: 7, length: 2 }, { id: 11, length: 2 }, { id: 4, length: 1 },
  { id: 1, length: 8 }, { id: 2, length: 4 }, { id: 10, length: 4 }, { id: 14, length: 4 }, { id: 22, length: 4 }, { id: 21, length: 4 },
];

export const V6_FIELDS: readonly Field[] = [
  { id: 27, length: 16 }, { id: 28, length: 16 }, { id: 7, length: 2 }, { id: 11, length: 2 }, { id: 4, length: 1 },
  { id: 1, length: 8 }, { id: 2, length: 4 }, { id: 10, length: 4 }, { id: 14, length: 4 }, { id: 152, length: 8 }, { id: 153, length: 8 },
];

/** the values of `fields` for a flow (fields from V4_FIELDS / V6_FIELDS and a few more) */
export function flowValues(fields: readonly Field[], f: FlowSpec): Value[] {
  return fields.map((field) => {
    switch (field.id) {
      case 8: case 27: return f.src;
      case 12: case 28: return f.dst;
      case 7: return f.srcPort;
      case 11: return f.dstPort;
      case 4: return f.proto;
      case 1: return f.bytes;
      case 2: return f.packets;
      case 10: return f.inIf ?? 0;
      case 14: return f.outIf ?? 0;
      case 22: return f.first ?? 0;
      case 21: return f.last ?? 0;
      case 152: return f.startMs ?? 0;
      case 153: return f.endMs ?? 0;
      case 48: case 302: return f.samplerId ?? 0;
      case 5: return f.tos ?? 0;
      case 6: return f.tcpFlags ?? 0;
      default: throw new Error(`flowValues: no value for IE ${field.id}`);
    }
  });
}

/** a data set of `flows` against template `id` with `fields` */
export function dataSet(id: number, fields: readonly Field[], flows: readonly FlowSpec[], padding = 0): SetSpec {
  return { kind: 'data', id, fields, records: flows.map((f) => flowValues(fields, f)), padding };
}

/** `n` distinct IPv4 flows, deterministic */
export function makeFlows(n: number, seed = 0): FlowSpec[] {
  const out: FlowSpec[] = [];
  for (let i = 0; i < n; i++) {
    const k = seed * 1000 + i;
    out.push({
      src: `198.18.${(k >> 8) & 0xff}.${k & 0xff}`,
      dst: `198.19.${(k >> 16) & 0xff}.${(k * 7) & 0xff}`,
      srcPort: 1024 + (k % 60000),
      dstPort: [53, 80, 443, 8080][k % 4]!,
      proto: [6, 17][k % 2]!,
      bytes: 100 + ((k * 37) % 10000),
      packets: 1 + (k % 50),
      inIf: 1 + (k % 3),
      outIf: 10 + (k % 2),
      first: 1000 + k,
      last: 2000 + k,
    });
  }
  return out;
}
