/** An id as the API takes it (luxebrain.tenancy.ENTITY_ID_PATTERN): checked before it is sent or asked about. */
export const ENTITY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

/** "101, 205 ,301" -> ["101", "205", "301"]: ids however they are separated. */
export function parseIds(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}
