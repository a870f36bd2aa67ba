/**
 * Content-coding negotiation for /metrics (RFC 9110 §12.5.3): gzip when the client's
 * Accept-Encoding admits it, identity otherwise. Pure: no I/O.
 */

export type MetricsEncoding = 'gzip' | 'identity';

/** a q-value, or NaN when the parameter is malformed (the coding is then ignored) */
function qValue(params: readonly string[]): number {
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const v = p.slice(eq + 1).trim();
    return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v) ? Number(v) : Number.NaN;
  }
  return 1;
}

/**
 * gzip when Accept-Encoding lists `gzip` (or `x-gzip`) with q > 0, or `*` with q > 0 and gzip
 * not refused by name; identity otherwise (no header, `identity`, malformed entries).
 */
export function negotiateEncoding(acceptEncoding: string | readonly string[] | undefined): MetricsEncoding {
  if (acceptEncoding === undefined) return 'identity';
  const text = typeof acceptEncoding === 'string' ? acceptEncoding : acceptEncoding.join(',');
  let gzip = Number.NaN;
  let star = Number.NaN;
  for (const entry of text.split(',')) {
    const [coding = '', ...params] = entry.split(';');
    const name = coding.trim().toLowerCase();
    const q = qValue(params);
    if (Number.isNaN(q)) continue;
    if (name === 'gzip' || name === 'x-gzip') gzip = Number.isNaN(gzip) ? q : Math.max(gzip, q);
    else if (name === '*') star = q;
  }
  const q = Number.isNaN(gzip) ? star : gzip;
  return q > 0 ? 'gzip' : 'identity';
}
