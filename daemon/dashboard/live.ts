import type { ServerResponse } from "node:http";
import type Database from "better-sqlite3";
import type { AlertEvent } from "../../schemas/alert.js";
import type { StatusReport } from "../control/status.js";
import { ALERT_COLUMNS, type AlertRow, toAlertEvent } from "../store/rows.js";

/** A reading as the live feed sends it: compact, ts in epoch ms. */
export interface LiveReading {
  seq: number;
  sensor: string;
  gas: string;
  unit: string;
  ts: number;
  value: number;
}

/** One server-sent `tick` event. */
export interface LiveTick {
  status: StatusReport;
  readings: LiveReading[];
  alerts: AlertEvent[];
  /** More readings were committed than one tick carries: the page should refetch its range. */
  reset: boolean;
}

export const TICK_MS = 1000;
/** Pages open at once: each costs a query per second, and a Pi has little to spare. */
export const MAX_LIVE_CLIENTS = 16;
/** Per client per tick; beyond it (a client far behind) the page refetches instead. */
const MAX_READINGS = 5000;

interface Client {
  response: ServerResponse;
  readingSeq: number;
  alertSeq: number;
}

/**
 * `r<readingSeq>a<alertSeq>`: where a client is, sent as the SSE id so a
 * reconnect resumes there. The page starts with `r<lastSeq>` (the series it
 * drew ends there); a missing alert part means "from now".
 */
export function parseCursor(
  text: string | null | undefined,
): { readingSeq: number; alertSeq: number | null } | null {
  const match = /^r(\d{1,15})(?:a(\d{1,15}))?$/.exec(text ?? "");
  if (match === null) return null;
  return {
    readingSeq: Number(match[1]),
    alertSeq: match[2] === undefined ? null : Number(match[2]),
  };
}

/**
 * Server-sent events: every second, each connected page gets the status
 * report and the readings and alert events committed since its cursor. One
 * timer for all clients, running only while someone listens; the status
 * report is built once per tick.
 */
export class LiveFeed {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | null = null;
  private readonly readings: Database.Statement<[number, number], LiveReading>;
  private readonly alerts: Database.Statement<[number], AlertRow>;
  private readonly newest: Database.Statement<[], { r: number | null; a: number | null }>;

  constructor(
    db: Database.Database,
    private readonly file: string,
    private readonly prefix: () => string,
    private readonly status: () => StatusReport,
  ) {
    this.readings = db.prepare(
      `SELECT r.seq, r.ts, r.value, s.sensor, s.gas, s.unit
       FROM readings r JOIN series s ON s.id = r.series WHERE r.seq > ? ORDER BY r.seq LIMIT ?`,
    );
    this.alerts = db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE seq > ? ORDER BY seq`);
    this.newest = db.prepare(
      "SELECT (SELECT max(seq) FROM readings) AS r, (SELECT max(seq) FROM alerts) AS a",
    );
  }

  /** Starts streaming to `response` after `cursor` (null: from now). */
  add(
    response: ServerResponse,
    cursor: { readingSeq: number; alertSeq: number | null } | null,
  ): void {
    if (this.clients.size >= MAX_LIVE_CLIENTS) {
      const body = JSON.stringify({
        error: `${MAX_LIVE_CLIENTS} live pages are open already; close one and reload`,
      });
      response.writeHead(503, {
        "content-type": "application/json; charset=utf-8",
        "retry-after": "30",
      });
      response.end(body);
      return;
    }
    const now = this.now();
    const client: Client = {
      response,
      readingSeq: cursor?.readingSeq ?? now.readingSeq,
      alertSeq: cursor?.alertSeq ?? now.alertSeq,
    };
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    // Tells EventSource how soon to reconnect after a restart of sensord.
    response.write("retry: 2000\n\n");
    this.clients.add(client);
    response.on("close", () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stopTimer();
    });
    this.send(client, this.status());
    if (this.timer === null) this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  get listening(): number {
    return this.clients.size;
  }

  close(): void {
    this.stopTimer();
    for (const client of this.clients) client.response.end();
    this.clients.clear();
  }

  private now(): { readingSeq: number; alertSeq: number } {
    const row = this.newest.get();
    return { readingSeq: row?.r ?? 0, alertSeq: row?.a ?? 0 };
  }

  private tick(): void {
    const status = this.status();
    for (const client of this.clients) this.send(client, status);
  }

  private send(client: Client, status: StatusReport): void {
    const rows = this.readings.all(client.readingSeq, MAX_READINGS + 1);
    const reset = rows.length > MAX_READINGS;
    const sent = reset ? [] : rows;
    const alertRows = this.alerts.all(client.alertSeq);
    if (reset) client.readingSeq = this.now().readingSeq;
    else client.readingSeq = rows[rows.length - 1]?.seq ?? client.readingSeq;
    client.alertSeq = alertRows[alertRows.length - 1]?.seq ?? client.alertSeq;
    const prefix = this.prefix();
    const tick: LiveTick = {
      status,
      readings: sent,
      alerts: alertRows.map((row) => toAlertEvent(this.file, prefix, row)),
      reset,
    };
    client.response.write(
      `id: r${client.readingSeq}a${client.alertSeq}\nevent: tick\ndata: ${JSON.stringify(tick)}\n\n`,
    );
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
