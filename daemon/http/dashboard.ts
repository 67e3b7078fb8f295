import type { IncomingMessage, ServerResponse } from "node:http";
import type Database from "better-sqlite3";
import { readApiKey } from "../../core/api-key.js";
import { DEFAULT_WIDTH } from "../../core/buckets.js";
import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { SensordConfig } from "../../schemas/config-types.js";
import { UNITS, type Unit } from "../../schemas/names.js";
import { dashboardFiles } from "../../web/server/assets.js";
import type { StaticFiles } from "../../web/server/static.js";
import { effectiveRules } from "../control/overrides.js";
import type { ControlDeps } from "../control/routes/deps.js";
import { deviceAlerts } from "../dashboard/alerts.js";
import { deviceCsv } from "../dashboard/csv.js";
import { LiveFeed, parseCursor } from "../dashboard/live.js";
import { BadParamError, parseDashboardParams } from "../dashboard/params.js";
import { deviceSeries } from "../dashboard/series.js";
import { thresholdLines } from "../dashboard/thresholds.js";
import { BLOCK_SEQS, TimeIndex } from "../dashboard/time-index.js";
import { getMeta, META } from "../store/meta.js";
import { openDatabase } from "../store/open.js";
import { mayRead, presentedToken, tokenCookie } from "./auth.js";
import type { HttpExchange, HttpRoute } from "./route.js";

export const MAX_ALERTS = 1000;
const DEFAULT_ALERTS = 200;

export interface DashboardDeps {
  config: SensordConfig;
  control: Pick<ControlDeps, "status" | "overrides">;
  log: Logger;
}

/** The device dashboard: the page, its files, and read-only JSON/CSV/SSE under /api/. */
export interface Dashboard {
  /** The API's endpoints, the page and its files. */
  readonly routes: readonly HttpRoute[];
  /** Answers a path under /api/ that no route has, as the API answers (JSON, behind the token). */
  unknownApi(exchange: HttpExchange): true;
  /** Whether `[http] token_file` guards the data (else loopback alone does, and the server checks `Host`). */
  readonly guarded: boolean;
  close(): void;
}

interface Reader {
  db: Database.Database;
  series: ReturnType<typeof deviceSeries>;
  csv: ReturnType<typeof deviceCsv>;
  alerts: ReturnType<typeof deviceAlerts>;
  live: LiveFeed;
  units: () => Array<{ gas: string; unit: Unit }>;
  /** The oldest and newest reading's time: the page picks its first range from them. */
  extent: () => { oldest: string | null; newest: string | null };
}

/** Writes an /api/ endpoint's answer; throws BadParamError for a bad query (400). */
type ApiAnswer = (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
) => Promise<void> | void;

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/**
 * Reads the database over its own read-only connection (WAL: never blocks
 * the writer), opened on first use. With `[http] token_file` every /api/
 * request needs the token; the page and its scripts do not (they hold no
 * data), and `/?token=` trades the token for a cookie once.
 */
export function createDashboard(deps: DashboardDeps): Dashboard {
  const { config, control, log } = deps;
  const files: StaticFiles = dashboardFiles({ "/": "device.html" });
  const token = readToken(config, log);
  let reader: Reader | null = null;
  const open = (): Reader => {
    if (reader !== null) return reader;
    const file = config.storage.path;
    const db = openDatabase(file, { log, readonly: true });
    const prefix = (): string => {
      const value = getMeta(db, META.idPrefix);
      if (value === null) throw new Error(`${file} has no id prefix yet`);
      return value;
    };
    const index = new TimeIndex(db);
    const device = { id: config.device.id, group: config.device.group };
    const unitRows = db.prepare<[], { gas: string; unit: string }>(
      "SELECT DISTINCT gas, unit FROM series ORDER BY gas, unit",
    );
    // The first and last block of seqs (seq is the rowid: both are b-tree edge reads, no
    // time index needed); times follow seqs closely enough to choose a default range.
    const extentRow = db.prepare<[], { oldest: number | null; newest: number | null }>(
      `SELECT (SELECT min(ts) FROM readings WHERE seq < (SELECT min(seq) FROM readings) + ${BLOCK_SEQS}) AS oldest,
              (SELECT max(ts) FROM readings WHERE seq > (SELECT max(seq) FROM readings) - ${BLOCK_SEQS}) AS newest`,
    );
    reader = {
      db,
      series: deviceSeries(db, index, device),
      csv: deviceCsv(db, index, prefix),
      alerts: deviceAlerts(db, file, prefix),
      live: new LiveFeed(db, file, prefix, control.status),
      extent: () => {
        const row = extentRow.get();
        const iso = (ms: number | null | undefined) =>
          ms === null || ms === undefined ? null : new Date(ms).toISOString();
        return { oldest: iso(row?.oldest), newest: iso(row?.newest) };
      },
      units: () =>
        unitRows.all().flatMap((row) => {
          const unit = UNITS.find((known) => known === row.unit);
          return unit === undefined ? [] : [{ gas: row.gas, unit }];
        }),
    };
    return reader;
  };

  const json = (response: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    response.writeHead(status, { ...JSON_HEADERS, "content-length": Buffer.byteLength(text) });
    response.end(text);
  };

  /**
   * One /api/ answer: GET only, then the token, then `answer`. HEAD is
   * refused too: it would run the query (or open a live feed) only to drop the body.
   */
  const api = ({ request, response, url }: HttpExchange, answer: ApiAnswer): true => {
    if (request.method !== "GET") {
      response.setHeader("allow", "GET");
      json(response, 405, { error: `${url.pathname}: only GET` });
      return true;
    }
    const run = async (): Promise<void> => {
      if (token.error !== null) {
        json(response, 503, { error: token.error });
        return;
      }
      const presented = presentedToken(request.headers);
      if (!mayRead(token.value, presented)) {
        json(response, 401, {
          error:
            presented === null
              ? "this sensord needs its dashboard token: open /?token=<token> once, or send the x-sensord-token header"
              : "wrong dashboard token: it is not the one in this sensord's [http] token_file (was it changed?); " +
                "open /?token=<token> once with the right one, or send it in the x-sensord-token header",
          wrongToken: presented !== null,
        });
        return;
      }
      await answer(request, response, url);
    };
    run().catch((error: unknown) => {
      if (error instanceof BadParamError) {
        json(response, 400, { error: error.message, param: error.param });
        return;
      }
      log.error(`${url.pathname} failed: ${describeError(error)}`);
      if (!response.headersSent) json(response, 500, { error: describeError(error) });
      else response.destroy();
    });
    return true;
  };

  // In the order the 404 answer lists them.
  const endpoints: Array<{ path: string; answer: ApiAnswer }> = [
    {
      path: "/api/status",
      answer: (_request, response, url) => {
        parseDashboardParams(url.searchParams, [], Date.now());
        json(response, 200, control.status());
      },
    },
    {
      path: "/api/series",
      answer: async (_request, response, url) => {
        const query = parseDashboardParams(
          url.searchParams,
          ["from", "to", "width", "gas"],
          Date.now(),
        );
        const answer = await open().series({ ...query, width: query.width ?? DEFAULT_WIDTH });
        json(response, 200, answer);
      },
    },
    {
      path: "/api/alerts",
      answer: (_request, response, url) => {
        const query = parseDashboardParams(
          url.searchParams,
          ["from", "to", "limit"],
          Date.now(),
          MAX_ALERTS,
        );
        json(response, 200, open().alerts({ ...query, limit: query.limit ?? DEFAULT_ALERTS }));
      },
    },
    {
      path: "/api/thresholds",
      answer: (_request, response, url) => {
        parseDashboardParams(url.searchParams, [], Date.now());
        const rules = effectiveRules(control.overrides()).rules;
        json(response, 200, { lines: thresholdLines(rules, open().units()) });
      },
    },
    {
      path: "/api/extent",
      answer: (_request, response, url) => {
        parseDashboardParams(url.searchParams, [], Date.now());
        json(response, 200, open().extent());
      },
    },
    {
      path: "/api/readings.csv",
      answer: async (_request, response, url) => {
        const query = parseDashboardParams(url.searchParams, ["from", "to", "gas"], Date.now());
        const csv = open().csv;
        response.writeHead(200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${config.device.id}-readings.csv"`,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        });
        try {
          await csv(query, response);
        } catch (error) {
          // The status line is gone: cutting the connection is the only way left to say it failed.
          response.destroy();
          throw error;
        }
        response.end();
      },
    },
    {
      path: "/api/events",
      answer: (request, response, url) => {
        const known = ["after"];
        for (const name of url.searchParams.keys()) {
          if (!known.includes(name))
            throw new BadParamError(name, `unknown parameter "${name}"; known: after`);
        }
        const resume = request.headers["last-event-id"];
        const cursor = parseCursor(
          typeof resume === "string" ? resume : url.searchParams.get("after"),
        );
        open().live.add(response, cursor);
      },
    },
  ];
  const endpointList = endpoints.map((endpoint) => endpoint.path).join(", ");

  /** `/?token=`: 303 to the same page without the token (the range and the rest stay), so it leaves the address bar and the history. */
  const tradeToken = ({ response, url }: HttpExchange): boolean => {
    if (!url.searchParams.has("token")) return false;
    const presented = url.searchParams.get("token");
    const rest = new URLSearchParams(url.searchParams);
    rest.delete("token");
    const location = rest.size > 0 ? `/?${rest}` : "/";
    if (token.value === null) {
      response.writeHead(303, { location });
      response.end();
    } else if (mayRead(token.value, presented)) {
      response.writeHead(303, { location, "set-cookie": tokenCookie(token.value) });
      response.end();
    } else {
      response.writeHead(401, { "content-type": "text/plain; charset=utf-8" });
      response.end(
        "wrong token: it is not the one in this sensord's [http] token_file.\n" +
          "Open /?token=<the content of that file> again (on the device: sudo cat <token_file>).\n",
      );
    }
    return true;
  };
  const serveFile = ({ request, response, url }: HttpExchange): boolean =>
    files.serve(url.pathname, request.method ?? "GET", request.headers, response);

  return {
    guarded: config.http.tokenFile !== null,
    routes: [
      ...endpoints.map(
        ({ path, answer }): HttpRoute => ({
          method: "GET",
          path,
          handle: (exchange) => api(exchange, answer),
        }),
      ),
      ...files.paths.map(
        (path): HttpRoute => ({
          method: "GET",
          path,
          handle:
            path === "/" ? (exchange) => tradeToken(exchange) || serveFile(exchange) : serveFile,
        }),
      ),
    ],
    unknownApi: (exchange) =>
      api(exchange, (_request, response, url) =>
        json(response, 404, {
          error: `${url.pathname}: no such endpoint; try ${endpointList}`,
        }),
      ),
    close() {
      reader?.live.close();
      if (reader?.db.open) reader.db.close();
      reader = null;
    },
  };
}

/** The token is read once at start; the file stays the only place it is written. Never logged. */
function readToken(
  config: SensordConfig,
  log: Logger,
): { value: string | null; error: string | null } {
  const file = config.http.tokenFile;
  if (file === null) return { value: null, error: null };
  try {
    const read = readApiKey(file);
    if (read.warning !== null) log.warn(read.warning.replace("API key", "token"));
    return { value: read.key, error: null };
  } catch (error) {
    // Fail closed: the data stays behind a token nobody can present.
    const message = `[http] token_file: ${describeError(error).replace("API key", "token")}`;
    log.error(message);
    return { value: null, error: message };
  }
}
