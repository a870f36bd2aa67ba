/**
 * NetFlow v9 / IPFIX templates: their wire definition and the plan each is compiled into once,
 * so that decoding a data record is one pass over a few typed arrays (an op per field, no
 * object per record). Information elements from RFC 7012 (v9 field types share the numbers
 * below 128). Pure.
 */

/** A field specifier as exported: IE number, length (VARIABLE_LENGTH: variable), enterprise (0: IANA). */
export interface TemplateField {
  readonly id: number;
  readonly length: number;
  readonly enterprise: number;
}

/** A template as received, which is also its persisted form. */
export interface TemplateDef {
  readonly id: number;
  /** options template: the first `scopeCount` fields are scope fields */
  readonly options: boolean;
  readonly scopeCount: number;
  readonly fields: readonly TemplateField[];
}

export const VARIABLE_LENGTH = 65535;

/** What decoding does with a field. */
export const Op = {
  SKIP: 0,
  BYTES: 1,
  PACKETS: 2,
  BYTES_TOTAL: 3,
  PACKETS_TOTAL: 4,
  BYTES_POST: 5,
  PACKETS_POST: 6,
  PROTO: 7,
  TOS: 8,
  TCP_FLAGS: 9,
  SRC_PORT: 10,
  DST_PORT: 11,
  SRC4: 12,
  DST4: 13,
  SRC6: 14,
  DST6: 15,
  NEXT_HOP4: 16,
  NEXT_HOP6: 17,
  IN_IF: 18,
  OUT_IF: 19,
  SRC_AS: 20,
  DST_AS: 21,
  /** sysUptime milliseconds (v9 FIRST/LAST_SWITCHED, IPFIX flowStart/EndSysUpTime) */
  FIRST_UPTIME: 22,
  LAST_UPTIME: 23,
  START_SEC: 24,
  END_SEC: 25,
  START_MS: 26,
  END_MS: 27,
  /** NTP timestamps (micro- and nanoseconds IEs share the format) */
  START_NTP: 28,
  END_NTP: 29,
  START_DELTA_US: 30,
  END_DELTA_US: 31,
  SAMPLER_ID: 32,
  SAMPLING_INTERVAL: 33,
  /** options records only */
  PACKET_INTERVAL: 34,
  PACKET_SPACE: 35,
  SAMPLING_SIZE: 36,
  SAMPLING_POPULATION: 37,
  SYSTEM_INIT_MS: 38,
} as const;

/** op, and the field length it needs ('int': any of 1..8 bytes, reduced-size encoding) */
const DATA_OPS: ReadonlyMap<number, readonly [number, 'int' | 4 | 8 | 16]> = new Map([
  [1, [Op.BYTES, 'int']], [2, [Op.PACKETS, 'int']], [85, [Op.BYTES_TOTAL, 'int']], [86, [Op.PACKETS_TOTAL, 'int']],
  [23, [Op.BYTES_POST, 'int']], [24, [Op.PACKETS_POST, 'int']],
  [4, [Op.PROTO, 'int']], [5, [Op.TOS, 'int']], [6, [Op.TCP_FLAGS, 'int']], [7, [Op.SRC_PORT, 'int']], [11, [Op.DST_PORT, 'int']],
  [8, [Op.SRC4, 4]], [12, [Op.DST4, 4]], [27, [Op.SRC6, 16]], [28, [Op.DST6, 16]], [15, [Op.NEXT_HOP4, 4]], [62, [Op.NEXT_HOP6, 16]],
  [10, [Op.IN_IF, 'int']], [14, [Op.OUT_IF, 'int']], [16, [Op.SRC_AS, 'int']], [17, [Op.DST_AS, 'int']],
  [22, [Op.FIRST_UPTIME, 'int']], [21, [Op.LAST_UPTIME, 'int']], [150, [Op.START_SEC, 'int']], [151, [Op.END_SEC, 'int']],
  [152, [Op.START_MS, 'int']], [153, [Op.END_MS, 'int']], [154, [Op.START_NTP, 8]], [155, [Op.END_NTP, 8]],
  [156, [Op.START_NTP, 8]], [157, [Op.END_NTP, 8]], [158, [Op.START_DELTA_US, 'int']], [159, [Op.END_DELTA_US, 'int']],
  [48, [Op.SAMPLER_ID, 'int']], [302, [Op.SAMPLER_ID, 'int']], [34, [Op.SAMPLING_INTERVAL, 'int']], [50, [Op.SAMPLING_INTERVAL, 'int']],
]);

/** options records: what sampling and time need */
const OPTION_OPS: ReadonlyMap<number, readonly [number, 'int']> = new Map([
  [48, [Op.SAMPLER_ID, 'int']], [302, [Op.SAMPLER_ID, 'int']], [34, [Op.SAMPLING_INTERVAL, 'int']], [50, [Op.SAMPLING_INTERVAL, 'int']],
  [305, [Op.PACKET_INTERVAL, 'int']], [306, [Op.PACKET_SPACE, 'int']], [309, [Op.SAMPLING_SIZE, 'int']], [310, [Op.SAMPLING_POPULATION, 'int']],
  [160, [Op.SYSTEM_INIT_MS, 'int']],
]);

/** A template compiled for decoding. */
export interface Plan {
  readonly def: TemplateDef;
  readonly ops: Uint8Array;
  /** field lengths; VARIABLE_LENGTH for variable-length fields */
  readonly lengths: Uint16Array;
  /** record length when every field is fixed, else -1 */
  readonly fixedLength: number;
  /** the shortest record (a variable-length field counts one byte) */
  readonly minLength: number;
}

function opOf(f: TemplateField, table: ReadonlyMap<number, readonly [number, 'int' | 4 | 8 | 16]>): number {
  if (f.enterprise !== 0 || f.length === VARIABLE_LENGTH) return Op.SKIP;
  const entry = table.get(f.id);
  if (entry === undefined) return Op.SKIP;
  const [op, need] = entry;
  if (need === 'int') return f.length >= 1 && f.length <= 8 ? op : Op.SKIP;
  return f.length === need ? op : Op.SKIP;
}

/**
 * Compiles a template; null when no record could ever be decoded with it (zero length).
 * `ipfixScopes`: options scope fields are IEs (IPFIX) rather than v9 scope types, so a
 * selector id may be a scope field.
 */
export function compileTemplate(def: TemplateDef, ipfixScopes: boolean): Plan | null {
  const n = def.fields.length;
  const ops = new Uint8Array(n);
  const lengths = new Uint16Array(n);
  let fixed = 0;
  let min = 0;
  let variable = false;
  for (let i = 0; i < n; i++) {
    const f = def.fields[i]!;
    lengths[i] = f.length;
    if (f.length === VARIABLE_LENGTH) {
      variable = true;
      min += 1;
    } else {
      fixed += f.length;
      min += f.length;
    }
    const scope = def.options && i < def.scopeCount;
    ops[i] = def.options ? (scope && !ipfixScopes ? Op.SKIP : opOf(f, OPTION_OPS)) : opOf(f, DATA_OPS);
  }
  if (min === 0) return null;
  return { def, ops, lengths, fixedLength: variable ? -1 : fixed, minLength: min };
}
