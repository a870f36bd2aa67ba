/**
 * Member selectors: `site=par,region=eu` (every pair must match), `name=NAME` for one member (the
 * label `name` is the probe_name), and `*` or the empty text for every member. Pure.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';

export interface Selector {
  readonly pairs: readonly { readonly key: string; readonly value: string }[];
}

const KEY = /^[a-z_][a-z0-9_]{0,62}$/;
const VALUE = /^[A-Za-z0-9_.:/-]{1,128}$/;
/** pairs in one selector at most */
export const MAX_SELECTOR_PAIRS = 32;

export const ALL: Selector = { pairs: [] };

export function parseSelector(text: string): Selector {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '*') return ALL;
  const parts = trimmed.split(',');
  if (parts.length > MAX_SELECTOR_PAIRS) {
    throw new AppError(ErrorCodes.FLEET_ERR_SELECTOR, `a selector has at most ${MAX_SELECTOR_PAIRS} pairs`);
  }
  const pairs = parts.map((part) => {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0 || !KEY.test(key) || !VALUE.test(value)) {
      throw new AppError(ErrorCodes.FLEET_ERR_SELECTOR, `bad selector pair ${JSON.stringify(part)}: expected key=value (key: a-z, 0-9, _; value: A-Z, a-z, 0-9, _ . : / -)`);
    }
    return { key, value };
  });
  return { pairs };
}

/** Whether a member with these labels (its `name` included) is selected. */
export function selects(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.pairs.every((p) => Object.hasOwn(labels, p.key) && labels[p.key] === p.value);
}

export function formatSelector(selector: Selector): string {
  return selector.pairs.length === 0 ? '*' : selector.pairs.map((p) => `${p.key}=${p.value}`).join(',');
}
