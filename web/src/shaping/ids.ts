/** "101, 205 ,301" -> ["101", "205", "301"]: ids however they are separated. */
export function parseIds(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}
