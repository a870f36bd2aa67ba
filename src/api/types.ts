/** The data of the REST target API: what it needs from the running target set, and what it stores. */
import type { EntryProblem } from '../config/entries.js';
import type { TargetConfig } from '../config/types.js';
import type { TargetSources } from '../targets/sources.js';

export type { RunningTarget } from '../targets/sources.js';

/** What the API needs of the running target set (it lists every origin through running()). */
export type ApiSources = TargetSources;

/** A target entry as sent by a client: the keys of a `targets:` value of the config file. */
export type TargetEntry = Readonly<Record<string, unknown>>;

/** One target created through the API, as stored (in memory and in the state file). */
export interface ApiTargetRecord {
  readonly name: string;
  /** as sent, without `name` and `lifetime`; validated again on every config change */
  readonly entry: TargetEntry;
  /** Unix milliseconds */
  readonly createdMs: number;
  readonly updatedMs: number;
  /** Unix milliseconds; null: never expires */
  readonly expiresMs: number | null;
}

/** A record checked against the running config. */
export type Evaluated =
  | { readonly record: ApiTargetRecord; readonly ok: true; readonly target: TargetConfig; readonly groups: readonly string[] }
  | { readonly record: ApiTargetRecord; readonly ok: false; readonly problems: readonly EntryProblem[] };
