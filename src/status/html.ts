/** HTML escaping: every piece of text the status page did not write itself goes through `esc`. */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text for an element's content or a quoted attribute value. */
export function esc(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

/** `?a=1&b=2` from the non-empty values, each percent-encoded, then escaped for an href. */
export function href(params: Readonly<Record<string, string | number>>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '') qs.set(k, String(v));
  const text = qs.toString();
  return esc(text === '' ? '/' : `/?${text}`);
}
