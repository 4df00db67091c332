/**
 * Decoded cells are often V8 "sliced strings": views into the 256 KiB text chunk they came from,
 * which keep the whole chunk alive. Copying every cell would cost the hot path, so the decoder
 * does not; a long-lived cache keyed or valued by cells (memo tables, dictionaries) should store
 * detached copies made with this function instead.
 */
export function detachString(s: string): string {
  // Below 13 characters V8 copies slices anyway. Above, a cons string flattened by charCodeAt
  // owns a fresh buffer, and a slice of it references only that small buffer.
  if (s.length < 13) return s;
  const cons = ` ${s}`;
  cons.charCodeAt(1);
  return cons.slice(1);
}
