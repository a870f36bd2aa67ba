/** A problem found in the data, before it is given a source position. */
import { formatKeyPath, type ConfigProblem, type Segment } from './errors.js';
import type { Anchor, Locator } from './locate.js';

export interface Issue {
  /** where the problem is located */
  readonly segments: readonly Segment[];
  readonly message: string;
  /** point at the key or at the value of the last segment; default `value` */
  readonly anchor?: Anchor;
  /** the key path shown in the message; default `segments` */
  readonly path?: readonly Segment[];
  /** a wrong type hides other schema problems of the same value */
  readonly typeError?: boolean;
}

export function toProblem(issue: Issue, locator: Locator): ConfigProblem {
  const { line, col } = locator.position(issue.segments, issue.anchor ?? 'value');
  return { line, col, path: formatKeyPath(issue.path ?? issue.segments), message: issue.message };
}
