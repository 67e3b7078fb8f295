import { MAX_WIDTH } from "../../core/buckets.js";
import { GASES } from "../../schemas/names.js";

/** A query parameter the dashboard API refuses: 400 with this message. */
export class BadParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DashboardParams {
  fromMs: number;
  toMs: number;
  width?: number;
  gas?: string;
  limit?: number;
}

/** The range when the page names none: the last hour, as the page's default preset. */
export const DEFAULT_SPAN_MS = 3_600_000;

/**
 * Query string -> range and filters. Unknown or repeated parameters are
 * refused (a typo must not silently widen a download); times are epoch ms or
 * ISO 8601 with an offset. Pure.
 */
export function parseDashboardParams(
  params: URLSearchParams,
  known: readonly string[],
  nowMs: number,
  maxLimit = 1,
): DashboardParams {
  for (const name of new Set(params.keys())) {
    if (!known.includes(name)) {
      throw new BadParamError(name, `unknown parameter "${name}"; known: ${known.join(", ")}`);
    }
    if (params.getAll(name).length > 1) {
      throw new BadParamError(name, `parameter "${name}" given twice`);
    }
  }
  const to = params.get("to");
  const from = params.get("from");
  const toMs = to === null ? nowMs : time("to", to);
  const fromMs = from === null ? toMs - DEFAULT_SPAN_MS : time("from", from);
  if (toMs <= fromMs) throw new BadParamError("to", `"to" (${to}) must be after "from" (${from})`);
  const parsed: DashboardParams = { fromMs, toMs };
  const gas = params.get("gas");
  if (gas !== null && gas !== "") {
    // An unknown gas matches nothing: an empty answer would read as "no readings".
    if (!GASES.some((known) => known === gas)) {
      throw new BadParamError("gas", `unknown gas "${gas}"; known: ${GASES.join(", ")}`);
    }
    parsed.gas = gas;
  }
  const width = params.get("width");
  if (width !== null) parsed.width = whole("width", width, 1, MAX_WIDTH);
  const limit = params.get("limit");
  if (limit !== null) parsed.limit = whole("limit", limit, 1, maxLimit);
  return parsed;
}

function time(name: string, text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  // Without an offset a time means a different instant on the device and in the browser.
  const ms = /(Z|[+-]\d\d:?\d\d)$/i.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new BadParamError(
      name,
      `"${name}" must be epoch milliseconds or an ISO 8601 time with an offset (2026-11-26T10:00:00Z), got "${text}"`,
    );
  }
  return ms;
}

function whole(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new BadParamError(
      name,
      `"${name}" must be a whole number from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}
