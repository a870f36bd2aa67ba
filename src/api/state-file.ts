/**
 * The state file of API targets: `{ "version": 1, "targets": [...] }`. Written atomically
 * (temporary file in the same directory, fsync, rename, fsync of the directory), so a crash
 * leaves the old or the new file, never a torn one. A file that cannot be read or parsed is
 * renamed to `<file>.corrupt-<timestamp>` and reported; it is never emptied or overwritten.
 * A readable file with some bad records loads the good ones; the bad ones are set aside, as
 * they were, in `<file>.rejected-<timestamp>` and reported.
 */
import { readFile, rename, stat } from 'node:fs/promises';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import { nameProblems } from './validate.js';
import type { ApiTargetRecord } from './types.js';
import { isObj } from '../lib/obj.js';
import { removeStaleTemporaries, writeAtomic } from '../lib/atomic-file.js';

export { removeStaleTemporaries, writeAtomic };

export const STATE_VERSION = 1;
/** A larger file is not read (and is set aside as corrupt). */
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** A record's times as stored and as the API answers them: ISO 8601, `expires_at` null for never. */
export interface IsoTimes {
  readonly created_at: string;
  readonly updated_at: string;
  readonly expires_at: string | null;
}

interface StoredTarget extends IsoTimes {
  name: string;
  entry: Record<string, unknown>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function isoTimes(r: ApiTargetRecord): IsoTimes {
  return { created_at: iso(r.createdMs), updated_at: iso(r.updatedMs), expires_at: r.expiresMs === null ? null : iso(r.expiresMs) };
}


function time(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `${what} is not an ISO 8601 time`);
  return ms;
}

function recordOf(item: unknown, i: number, seen: Set<string>): ApiTargetRecord {
  const at = `targets[${i}]`;
  if (!isObj(item)) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `${at} is not an object`);
  const { name, entry } = item;
  if (typeof name !== 'string' || nameProblems(name).length > 0) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `${at}.name is not a target name`);
  if (seen.has(name)) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `${at}.name ${JSON.stringify(name)} appears twice`);
  if (!isObj(entry)) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `${at}.entry is not an object`);
  const record = {
    name,
    entry,
    createdMs: time(item.created_at, `${at}.created_at`),
    updatedMs: time(item.updated_at, `${at}.updated_at`),
    expiresMs: item.expires_at === null ? null : time(item.expires_at, `${at}.expires_at`),
  };
  // only a record that loads takes its name: a bad one never shadows a good one
  seen.add(name);
  return record;
}

/** A record of the state file that cannot be loaded, as it was, with the reason. */
export interface RejectedRecord {
  readonly item: unknown;
  readonly reason: string;
}

export interface ParsedState {
  readonly records: ApiTargetRecord[];
  readonly rejected: RejectedRecord[];
}

/**
 * Parses state file text: the good records, and the bad ones with their reasons. Throws an
 * Error whose message says what is wrong when the file as a whole is unusable.
 */
export function parseState(text: string): ParsedState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `not JSON: ${errorMessage(e)}`);
  }
  if (!isObj(data)) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, 'not a JSON object');
  if (data.version !== STATE_VERSION) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `unsupported version ${JSON.stringify(data.version)} (expected ${STATE_VERSION})`);
  if (!Array.isArray(data.targets)) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, '"targets" is not a list');
  const seen = new Set<string>();
  const records: ApiTargetRecord[] = [];
  const rejected: RejectedRecord[] = [];
  data.targets.forEach((item: unknown, i) => {
    try {
      records.push(recordOf(item, i, seen));
    } catch (e) {
      rejected.push({ item, reason: errorMessage(e) });
    }
  });
  return { records, rejected };
}

export function serializeState(records: Iterable<ApiTargetRecord>): string {
  const targets: StoredTarget[] = [...records].map((r) => ({ name: r.name, entry: { ...r.entry }, ...isoTimes(r) }));
  return `${JSON.stringify({ version: STATE_VERSION, targets }, null, 2)}\n`;
}

export type StateLoad =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'loaded';
      readonly records: ApiTargetRecord[];
      /** the bad records, written to `movedTo`; absent when every record is good */
      readonly rejected?: { readonly reasons: readonly string[]; readonly movedTo: string };
    }
  | { readonly kind: 'corrupt'; readonly reason: string; readonly movedTo: string };

async function readState(path: string): Promise<ParsedState | null> {
  try {
    const { size } = await stat(path);
    if (size > MAX_STATE_BYTES) throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `larger than ${MAX_STATE_BYTES} bytes (${size})`);
    return parseState(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Loads the state file. A bad one is renamed aside (`<file>.corrupt-<timestamp>`); when even
 * that fails, this throws, so that the caller never writes over it.
 */
export async function loadState(path: string, nowMs: number): Promise<StateLoad> {
  const stamp = new Date(nowMs).toISOString().replaceAll(':', '-');
  let parsed: ParsedState | null;
  try {
    parsed = await readState(path);
  } catch (e) {
    const reason = errorMessage(e);
    const movedTo = `${path}.corrupt-${stamp}`;
    await rename(path, movedTo);
    return { kind: 'corrupt', reason, movedTo };
  }
  if (parsed === null) return { kind: 'absent' };
  const { records, rejected } = parsed;
  if (rejected.length === 0) return { kind: 'loaded', records };
  const movedTo = `${path}.rejected-${stamp}`;
  await writeAtomic(movedTo, `${JSON.stringify({ version: STATE_VERSION, targets: rejected.map((r) => r.item) }, null, 2)}\n`);
  return { kind: 'loaded', records, rejected: { reasons: rejected.map((r) => r.reason), movedTo } };
}
