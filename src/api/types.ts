/** The data of the REST target API: what it needs from the running target set, and what it stores. */
import type { EntryProblem } from '../config/entries.js';
import type { TargetConfig } from '../config/types.js';
import type { TargetOrigin, TargetSources } from '../targets/sources.js';

/** One target of the running set, after the merge of every origin. */
export interface RunningTarget {
  readonly origin: TargetOrigin;
  readonly target: TargetConfig;
}

/**
 * TargetSources plus a view of the running set, so that the API lists what is probed, from
 * every origin (the file's targets alone are in `config().targets`).
 */
export interface ApiSources extends TargetSources {
  /** every target of the running set, one per name, with the origin that owns it */
  running(): Iterable<RunningTarget>;
}

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
