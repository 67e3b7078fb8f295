import type Database from "better-sqlite3";
import { type SeriesSelector, selectSeries } from "./select-series.js";

/** `GET /devices`: one entry per device that sent readings, with what its newest reading says. */
export interface DeviceSummary {
  device: string;
  /** The group of its newest reading (a device moved to another group shows there). */
  group: string;
  /** "lat, lng" as sent with its newest reading; absent when it sent none. */
  gps?: string;
  /** Newest reading's time. */
  lastReadingAt: string;
  /** When the ingest received the upload holding that reading. */
  lastSeenAt: string;
  gases: string[];
}

interface Newest {
  ts: number;
  gps: string;
  received_at: number;
}

/** Per series, its newest reading is one step down readings_series_ts. */
export function devicesQuery(db: Database.Database): (selector: SeriesSelector) => DeviceSummary[] {
  const newest = db.prepare<[number], Newest>(
    `SELECT r.ts, b.gps, b.received_at FROM readings r JOIN batches b ON b.seq = r.batch
     WHERE r.series = ? ORDER BY r.ts DESC LIMIT 1`,
  );
  return (selector) => {
    const devices = new Map<string, { summary: DeviceSummary; ts: number; gases: Set<string> }>();
    for (const group of selectSeries(db, { ...selector, gas: undefined })) {
      for (const id of group.ids) {
        const row = newest.get(id);
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
