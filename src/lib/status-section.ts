/**
 * A table a subsystem adds to the status page (host checks' last results, …): plain text cells,
 * escaped by the page, and a state per row for its colour.
 */
export type RowState = 'ok' | 'bad' | 'none';

export interface StatusSection {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly { readonly cells: readonly string[]; readonly state: RowState }[];
}
