/**
 * The explicit registry of host check kinds (no import side effects). Adding a kind is one
 * line here plus its `$defs/check_<kind>` in the schema.
 */
import type { CheckKinds } from './runner.js';

export const checkKinds = {} as const satisfies CheckKinds;
