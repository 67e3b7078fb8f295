// The page's time range: a preset relative to now, or custom from/to. No DOM.

export const PRESETS: Readonly<Record<string, number>> = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
};
export const DEFAULT_PRESET = "1h";

export interface Range {
  fromMs: number;
  toMs: number;
}

/** `range` is a preset name or "custom" (then `from`/`to` are ISO times or epoch ms). */
export function resolveRange(
  range: string,
  from: string | null,
  to: string | null,
  nowMs: number,
): Range {
  if (range === "custom") {
    const fromMs = parseTime(from);
    const toMs = parseTime(to) ?? nowMs;
    if (fromMs !== null && toMs > fromMs) return { fromMs, toMs };
  }
  const span = PRESETS[range] ?? PRESETS[DEFAULT_PRESET] ?? 3_600_000;
  return { fromMs: nowMs - span, toMs: nowMs };
}

function parseTime(text: string | null): number | null {
  if (text === null || text === "") return null;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}
