import { ERROR_CODES } from "../../core/errors.js";
import type { ReadingFilter } from "../store/types.js";
import { HttpError } from "./errors.js";

export const DEFAULT_READINGS_LIMIT = 1000;
export const MAX_READINGS_LIMIT = 100_000;

const TEXT_PARAMS = ["device", "group", "gas", "sensor"] as const;
const KNOWN_PARAMS = new Set<string>([...TEXT_PARAMS, "from", "to", "limit"]);

const EPOCH_MS = /^\d{1,15}$/;
// A time without an offset would be read in the server's zone: require Z or ±HH:MM.
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `GET /readings` query string -> filter. Text filters match exactly (an
 * empty value matches an empty column, e.g. `device=` for originals sent
 * without x-device-id); `from` (inclusive) and `to` (exclusive) are ISO
 * times or epoch ms. Unknown or repeated parameters are refused so a typo
 * cannot silently return everything.
 */
export function parseReadingsQuery(params: URLSearchParams): ReadingFilter {
  for (const name of new Set(params.keys())) {
    if (!KNOWN_PARAMS.has(name)) {
      throw badParam(name, `unknown parameter "${name}"; known: ${[...KNOWN_PARAMS].join(", ")}`);
    }
    if (params.getAll(name).length > 1) throw badParam(name, `parameter "${name}" given twice`);
  }
  const filter: ReadingFilter = { limit: parseLimit(params.get("limit")) };
  for (const name of TEXT_PARAMS) {
    const value = params.get(name);
    if (value !== null) filter[name] = value;
  }
  const from = params.get("from");
  if (from !== null) filter.fromMs = parseTime("from", from);
  const to = params.get("to");
  if (to !== null) filter.toMs = parseTime("to", to);
  if (filter.fromMs !== undefined && filter.toMs !== undefined && filter.toMs < filter.fromMs) {
    throw badParam("to", `"to" (${to}) is before "from" (${from})`);
  }
  return filter;
}

function parseLimit(text: string | null): number {
  if (text === null) return DEFAULT_READINGS_LIMIT;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_READINGS_LIMIT) {
    throw badParam(
      "limit",
      `"limit" must be a whole number from 1 to ${MAX_READINGS_LIMIT}, got "${text}"`,
    );
  }
  return limit;
}

export function parseTime(name: string, text: string): number {
  if (EPOCH_MS.test(text)) return Number(text);
  if (ISO_TIME.test(text)) {
    const time = Date.parse(text);
    if (Number.isFinite(time)) return time;
  }
  throw badParam(
    name,
    `"${name}" must be an ISO 8601 time with Z or an offset (e.g. 2026-11-26T10:00:00Z), a date, or epoch ms; got "${text}"`,
  );
}

export function badParam(param: string, message: string): HttpError {
  return new HttpError(400, ERROR_CODES.ingest.badParam, message, { details: { param } });
}
