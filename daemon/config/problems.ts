import type { ConfigProblem } from "../../core/errors.js";
import { CONFIG_SECTION_NAMES } from "../../schemas/config-types.js";

/**
 * Collects problems, at most one per key: the first (most basic, e.g. "wrong
 * type") wins, so later checks of the same key can run without guarding
 * against what was already reported.
 */
export class Problems {
  readonly list: ConfigProblem[] = [];
  private readonly keys = new Set<string>();

  add(key: string, message: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.list.push({ key, message });
  }

  addAll(problems: readonly ConfigProblem[]): void {
    for (const problem of problems) this.add(problem.key, problem.message);
  }

  /** A problem at `key` or anywhere inside it (`sensors[0]` covers `sensors[0].interval`). */
  hasUnder(key: string): boolean {
    for (const known of this.keys) {
      if (known === key || known.startsWith(`${key}.`) || known.startsWith(`${key}[`)) return true;
    }
    return false;
  }
}

/** Parse errors first, then the sections in the schema's order; a key of no section (a typo) last. */
const SECTION_ORDER: readonly string[] = ["toml", ...CONFIG_SECTION_NAMES];

/** Problems by section, then by entry index; the order found within one entry. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const rank = (key: string) => {
    const match = /^([^.[]*)(?:\[(\d+)\])?/.exec(key);
    const section = SECTION_ORDER.indexOf(match?.[1] ?? "");
    return [section === -1 ? SECTION_ORDER.length : section, Number(match?.[2] ?? -1)] as const;
  };
  return problems
    .map((problem, order) => ({ problem, order, rank: rank(problem.key) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.order - b.order)
    .map((entry) => entry.problem);
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** `sensors[0]` + `interval` -> `sensors[0].interval`; keys TOML would quote stay quoted. */
export function childKey(parent: string, child: string | number): string {
  if (typeof child === "number") return `${parent}[${child}]`;
  const part = BARE_KEY.test(child) ? child : JSON.stringify(child);
  return parent === "" ? part : `${parent}.${part}`;
}

/** A JSON Pointer from TypeBox (`/sensors/0/interval`) as a dotted key under `prefix`. */
export function pointerToKey(prefix: string, pointer: string): string {
  let key = prefix;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    key = childKey(key, /^\d+$/.test(segment) ? Number(segment) : segment);
  }
  return key;
}

/** TOML's name for the type of a parsed value. */
export function tomlType(value: unknown): string {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "float";
  if (typeof value === "boolean") return "boolean";
  if (value instanceof Date) return "datetime";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object" && value !== null) return "table";
  return typeof value;
}

/** `integer 2`, `string "2"`, `table` — for "expected X, got Y" messages. */
export function describeValue(value: unknown): string {
  const type = tomlType(value);
  if (type === "string") return `string ${JSON.stringify(value)}`;
  if (type === "integer" || type === "float" || type === "boolean")
    return `${type} ${String(value)}`;
  if (value instanceof Date) return `datetime ${value.toISOString()}`;
  return type;
}

/** `"a", "b", "c"` */
export function quoteList(values: Iterable<string>): string {
  return [...values].map((value) => JSON.stringify(value)).join(", ");
}

/** A plain-object view of a TOML table, or undefined for anything else. */
export function asTable(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  if (value instanceof Date) return undefined;
  return value as Record<string, unknown>;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
