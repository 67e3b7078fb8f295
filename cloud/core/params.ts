import { DEFAULT_WIDTH, MAX_WIDTH } from "../../core/buckets.js";
import { badParam, parseTime } from "./query.js";

export interface FleetParams {
  device?: string;
  group?: string;
  gas?: string;
  fromMs?: number;
  toMs?: number;
  width?: number;
  limit?: number;
}

const TEXT = ["device", "group", "gas"] as const;

/**
 * Query string -> filters for the fleet endpoints, with the same rules as
 * GET /readings: unknown or repeated parameters are refused (a typo must not
 * silently widen the selection), times are ISO with an offset or epoch ms.
 */
export function parseFleetParams(
  params: URLSearchParams,
  known: readonly string[],
  limits: { maxLimit?: number } = {},
): FleetParams {
  for (const name of new Set(params.keys())) {
    if (!known.includes(name)) {
      throw badParam(name, `unknown parameter "${name}"; known: ${known.join(", ")}`);
    }
    if (params.getAll(name).length > 1) throw badParam(name, `parameter "${name}" given twice`);
  }
  const parsed: FleetParams = {};
  for (const name of TEXT) {
    const value = params.get(name);
    if (value !== null) parsed[name] = value;
  }
  const from = params.get("from");
  if (from !== null) parsed.fromMs = parseTime("from", from);
  const to = params.get("to");
  if (to !== null) parsed.toMs = parseTime("to", to);
  if (parsed.fromMs !== undefined && parsed.toMs !== undefined && parsed.toMs <= parsed.fromMs) {
    throw badParam("to", `"to" (${to}) must be after "from" (${from})`);
  }
  const width = params.get("width");
  if (width !== null) parsed.width = wholeNumber("width", width, 1, MAX_WIDTH);
  const limit = params.get("limit");
  if (limit !== null) parsed.limit = wholeNumber("limit", limit, 1, limits.maxLimit ?? 1);
  return parsed;
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw badParam(name, `"${name}" must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A chart's range when the page names none: the last hour. */
export const DEFAULT_SPAN_MS = 3_600_000;
export { DEFAULT_WIDTH };
