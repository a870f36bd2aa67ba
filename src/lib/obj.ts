/** Plain data objects, as parsed from YAML or JSON (not arrays, not YAML 1.1 timestamps). */
export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
