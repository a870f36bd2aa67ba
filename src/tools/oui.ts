/**
 * MAC vendor lookup, offline, from the `oui-data` package: the IEEE registries MA-L (24-bit
 * prefixes, 6 hex digits), MA-M (28-bit, 7) and MA-S (36-bit, 9) as one JSON object keyed by
 * upper-case hex prefix. MA-M and MA-S blocks are carved out of MA-L blocks registered to the
 * IEEE Registration Authority, so the longest prefix wins. The data (5.6 MB of JSON) is read
 * once, on the first lookup; only each entry's organisation and country are kept (about
 * 54 000 entries). Refreshing the data: see README.md, "MAC vendor data".
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';

export type OuiBlock = 'MA-S' | 'MA-M' | 'MA-L';

export interface OuiResult {
  /** the address or prefix as 12 (or fewer) upper-case hex digits grouped by colons */
  readonly mac: string;
  /** the registry prefix that matched (hex digits), or null */
  readonly prefix: string | null;
  readonly block: OuiBlock | null;
  readonly prefix_bits: 24 | 28 | 36 | null;
  readonly organization: string | null;
  readonly country: string | null;
  /** U/L bit set: assigned locally (often randomised), never by the IEEE */
  readonly locally_administered: boolean;
  /** I/G bit set: a group (multicast or broadcast) address */
  readonly multicast: boolean;
}

interface Entry {
  readonly organization: string;
  readonly country: string | null;
}

export interface OuiLookup {
  lookup(mac: string): Promise<OuiResult>;
  /** entries held (0 before the first lookup) */
  readonly size: number;
}

const BLOCKS: readonly { digits: number; block: OuiBlock; bits: 24 | 28 | 36 }[] = [
  { digits: 9, block: 'MA-S', bits: 36 },
  { digits: 7, block: 'MA-M', bits: 28 },
  { digits: 6, block: 'MA-L', bits: 24 },
];

/** The file of the installed oui-data package. */
export function ouiDataPath(): string {
  return createRequire(import.meta.url).resolve('oui-data');
}

/**
 * Hex digits of a MAC address or prefix: `aa:bb:cc:dd:ee:ff`, `aa-bb-…`, `aabb.ccdd.eeff`, bare
 * hex; 6 to 12 digits (a prefix of at least an MA-L block).
 */
export function macDigits(text: string): string {
  const t = text.trim();
  if (t.length > 17 || !/^[0-9A-Fa-f]{1,4}([:.-]?[0-9A-Fa-f]{1,4})*$/.test(t)) {
    throw new AppError(ErrorCodes.TOOL_ERR_INPUT, `not a MAC address: ${JSON.stringify(t.slice(0, 32))}`);
  }
  const groups = t.split(/[:.-]/);
  const sep = /[:.-]/.exec(t)?.[0];
  // colon or dash groups are octets ("0:1b:c5:…" is 00:1B:C5:…); dot groups (Cisco) are 4 digits
  const digits = sep === '.' ? groups.join('') : sep === undefined ? t : groups.map((g) => g.padStart(2, '0')).join('');
  const groupsOk = sep === undefined || (sep === '.' ? groups.every((g) => g.length === 4) : groups.every((g) => g.length <= 2));
  if (digits.length < 6 || digits.length > 12 || !groupsOk) {
    throw new AppError(ErrorCodes.TOOL_ERR_INPUT, `not a MAC address or prefix of 6 to 12 hex digits: ${JSON.stringify(t)}`);
  }
  return digits.toUpperCase();
}

function parseData(text: string): Map<string, Entry> {
  const raw = JSON.parse(text) as unknown;
  if (typeof raw !== 'object' || raw === null) throw new Error('not a JSON object'); // uncoded-error: wrapped in TOOL_ERR_DATA by load()
  const out = new Map<string, Entry>();
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string' || !/^[0-9A-F]{6,9}$/.test(key)) continue;
    const lines = value.split('\n');
    const country = lines.length > 1 ? lines.at(-1)!.trim() : '';
    out.set(key, { organization: lines[0]!.trim(), country: country === '' ? null : country });
  }
  return out;
}

/** `read` returns the JSON text (tests pass a small fixture); by default the oui-data package file. */
export function createOuiLookup(read: () => Promise<string> = () => readFile(ouiDataPath(), 'utf8')): OuiLookup {
  let data: Promise<Map<string, Entry>> | null = null;
  let size = 0;
  const load = (): Promise<Map<string, Entry>> =>
    (data ??= read()
      .then(parseData)
      .then((m) => {
        size = m.size;
        return m;
      })
      .catch((e: unknown) => {
        data = null;
        throw new AppError(ErrorCodes.TOOL_ERR_DATA, `the MAC vendor data could not be loaded: ${errorMessage(e)}`);
      }));
  return {
    get size() {
      return size;
    },
    async lookup(mac) {
      const digits = macDigits(mac);
      const table = await load();
      const first = parseInt(digits.slice(0, 2), 16);
      const flags = { locally_administered: (first & 2) !== 0, multicast: (first & 1) !== 0 };
      const formatted = digits.match(/.{1,2}/g)!.join(':');
      for (const b of BLOCKS) {
        if (digits.length < b.digits) continue;
        const e = table.get(digits.slice(0, b.digits));
        if (e !== undefined) return { mac: formatted, prefix: digits.slice(0, b.digits), block: b.block, prefix_bits: b.bits, ...e, ...flags };
      }
      return { mac: formatted, prefix: null, block: null, prefix_bits: null, organization: null, country: null, ...flags };
    },
  };
}
