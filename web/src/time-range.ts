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

/**
 * The preset a page opens with when its URL names none: the shortest one
 * that holds the data, so a fresh device's few minutes fill the chart rather
 * than its right edge. No data yet (a new device): 15 min. Data older than
 * an hour with some in the last hour: 1 h (a week's view is heavy, and the
 * last hour is what a person checks first). Nothing in the last hour: the
 * shortest preset that reaches the newest reading, else the longest. Pure.
 */
export function initialPreset(
  oldestMs: number | null,
  newestMs: number | null,
  nowMs: number,
): string {
  if (newestMs === null) return "15m";
  const presets = Object.entries(PRESETS).sort(([, a], [, b]) => a - b);
  const shortest = (ageMs: number): string | undefined =>
    presets.find(([, span]) => ageMs <= span)?.[0];
  if (nowMs - newestMs <= 3_600_000) {
    const oldest = oldestMs ?? newestMs;
    return nowMs - oldest <= (PRESETS["15m"] ?? 0) ? "15m" : "1h";
  }
  return shortest(nowMs - newestMs) ?? presets[presets.length - 1]?.[0] ?? DEFAULT_PRESET;
}
