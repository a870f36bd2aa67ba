/**
 * Shares the repeated parts of plain data that came through a structured clone (a worker's
 * answer): every string, group name or label value of each entry arrives as its own copy, and so
 * does every small object of each entry (thresholds, group lists). Equal strings become one
 * string, and equal plain objects and arrays one object, bottom up: an object is shared when its
 * values are JSON scalars (strings, booleans, null, finite numbers) or objects shared already.
 * Returns the data, rebuilt where something was shared; it must not be mutated afterwards (the
 * loaded config is deep-frozen right after).
 */
export function internData<T>(value: T): T {
  const strings = new Map<string, string>();
  /** shared objects by their key, and the number each is known by in its parents' keys */
  const shared = new Map<string, object>();
  const ids = new Map<object, number>();
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const known = strings.get(v);
      if (known !== undefined) return known;
      strings.set(v, v);
      return v;
    }
    // plain objects and arrays only: a Map, a Date or a typed array is kept as it is
    if (v === null || typeof v !== 'object' || (!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype)) return v;
    const o = v as Record<string, unknown>;
    let key = Array.isArray(v) ? '[' : '{';
    for (const k of Object.keys(o)) {
      const x = visit(o[k]);
      o[k] = x;
      if (key === '') continue;
      const part = isScalar(x) ? JSON.stringify(x) : typeof x === 'object' && x !== null && ids.has(x) ? `#${ids.get(x)!}` : null;
      key = part === null ? '' : `${key}${JSON.stringify(k)}:${part},`;
    }
    if (key === '') return v;
    const known = shared.get(key);
    if (known !== undefined) return known;
    shared.set(key, v);
    ids.set(v, ids.size);
    return v;
  };
  return visit(value) as T;
}

/** a value that JSON.stringify keeps as is (so equal keys mean equal values) */
function isScalar(x: unknown): boolean {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
  return typeof x === 'number' && Number.isFinite(x) && !Object.is(x, -0);
}
