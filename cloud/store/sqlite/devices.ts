import type Database from "better-sqlite3";
import { MAX_AHEAD_MS } from "../limits.js";
import type { DeviceSummary, SeriesSelector } from "../types.js";
import { selectSeries } from "./select-series.js";

interface Newest {
  ts: number;
  gps: string;
  received_at: number;
}

/** Per series, its newest reading is one step down readings_series_ts. */
export function devicesQuery(
  db: Database.Database,
): (selector: SeriesSelector, nowMs: number) => DeviceSummary[] {
  // A reading past the ingest's one-day horizon (stored before it refused them) is not "last".
  const newest = db.prepare<[number, number], Newest>(
    `SELECT r.ts, b.gps, b.received_at FROM readings r JOIN batches b ON b.seq = r.batch
     WHERE r.series = ? AND r.ts <= ? ORDER BY r.ts DESC LIMIT 1`,
  );
  return (selector, nowMs) => {
    const horizon = nowMs + MAX_AHEAD_MS;
    const devices = new Map<string, { summary: DeviceSummary; ts: number; gases: Set<string> }>();
    for (const group of selectSeries(db, { ...selector, gas: undefined })) {
      for (const id of group.ids) {
        const row = newest.get(id, horizon);
        if (row === undefined) continue;
        const entry = devices.get(group.key.device);
        if (entry !== undefined) entry.gases.add(group.key.gas);
        if (entry !== undefined && entry.ts >= row.ts) continue;
        const summary: DeviceSummary = {
          device: group.key.device,
          group: group.key.group,
          ...(row.gps === "" ? {} : { gps: row.gps }),
          lastReadingAt: new Date(row.ts).toISOString(),
          lastSeenAt: new Date(row.received_at).toISOString(),
          gases: [],
        };
        devices.set(group.key.device, {
          summary,
          ts: row.ts,
          gases: entry?.gases ?? new Set([group.key.gas]),
        });
      }
    }
    return [...devices.values()]
      .map(({ summary, gases }) => ({ ...summary, gases: [...gases].sort() }))
      .filter((summary) => selector.gas === undefined || summary.gases.includes(selector.gas))
      .sort((a, b) => a.device.localeCompare(b.device));
  };
}
