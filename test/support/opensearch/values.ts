/** Small readers for JSON bodies the stand-in receives (no `any`). */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

/** The single key of `{ name: body }` shapes (queries, sort items, composite sources). */
export function only(value: unknown): [string, unknown] | null {
  const entries = Object.entries(asObject(value));
  return entries.length === 1 ? (entries[0] as [string, unknown]) : null;
}

/** Keyword order: Lucene compares terms as UTF-8 bytes. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function compareValues(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareBytes(String(a), String(b));
}

/** Index patterns and names: `*` matches any run of characters. */
export function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return regex.test(name);
}
