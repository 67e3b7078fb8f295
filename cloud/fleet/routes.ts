import type { IncomingMessage, ServerResponse } from "node:http";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import type Database from "better-sqlite3";
import { AlertBatch } from "../../schemas/alert-batch.js";
import { dashboardFiles } from "../../web/server/assets.js";
import type { StaticFiles } from "../../web/server/static.js";
import { readBody } from "../body.js";
import { HttpError } from "../errors.js";
import type { IngestContext } from "../ingest-route.js";
import { jsonReply, type Reply } from "../reply.js";
import { type FieldError, MAX_LISTED_ERRORS, schemaViolation } from "../validate.js";
import { type AlertStore, alertStore, DEFAULT_ALERTS_LIMIT, MAX_ALERTS_LIMIT } from "./alerts.js";
import { csvExport } from "./csv.js";
import { devicesQuery } from "./devices.js";
import { DEFAULT_SPAN_MS, DEFAULT_WIDTH, parseFleetParams } from "./params.js";
import { MAX_LINES, seriesQuery, TooManyLinesError } from "./series.js";

/** What the fleet routes read and write, over the ingest's own database connection. */
export interface Fleet {
  series: ReturnType<typeof seriesQuery>;
  devices: ReturnType<typeof devicesQuery>;
  alerts: AlertStore;
  csv: ReturnType<typeof csvExport>;
  files: StaticFiles;
}

export function createFleet(db: Database.Database): Fleet {
  return {
    series: seriesQuery(db),
    devices: devicesQuery(db),
    alerts: alertStore(db),
    csv: csvExport(db),
    files: dashboardFiles({ "/": "fleet.html", "/dashboard": "fleet.html" }),
  };
}

export interface FleetContext extends IngestContext {
  fleet: Fleet;
}

export interface FleetRoute {
  method: "GET" | "POST";
  auth: boolean;
  /** Returns null when it answered on `response` itself (files, streams). */
  handle(
    request: IncomingMessage,
    url: URL,
    context: FleetContext,
    response: ServerResponse,
  ): Promise<Reply | null> | Reply | null;
}

const alertBatchCheck = TypeCompiler.Compile(AlertBatch);

/**
 * Pages and their scripts need no key: they hold no data, and a browser
 * cannot add a header to a page load. The data endpoints need it like
 * GET /readings does.
 */
const page: FleetRoute = {
  method: "GET",
  auth: false,
  handle: (request, url, context, response) => {
    if (context.fleet.files.serve(url.pathname, "GET", request.headers, response)) return null;
    throw new HttpError(
      404,
      "INGEST_NOT_FOUND",
      `${url.pathname}: dashboard file missing; run \`npm run build\``,
    );
  },
};

export const FLEET_ROUTES: ReadonlyMap<string, FleetRoute> = new Map<string, FleetRoute>([
  ["/", page],
  ["/dashboard", page],
  [
    "/readings/series",
    {
      method: "GET",
      auth: true,
      handle: (_request, url, context) => {
        const params = parseFleetParams(url.searchParams, [
          "device",
          "group",
          "gas",
          "from",
          "to",
          "width",
        ]);
        const toMs = params.toMs ?? Date.now();
        const fromMs = params.fromMs ?? toMs - DEFAULT_SPAN_MS;
        try {
          const answer = context.fleet.series({
            ...params,
            fromMs,
            toMs,
            width: params.width ?? DEFAULT_WIDTH,
          });
          return jsonReply(200, answer, `${answer.lines.length} lines x ${answer.buckets} buckets`);
        } catch (error) {
          if (error instanceof TooManyLinesError) {
            throw new HttpError(400, "INGEST_TOO_MANY_LINES", error.message, {
              details: { lines: error.lines, max: MAX_LINES },
            });
          }
          throw error;
        }
      },
    },
  ],
  [
    "/readings.csv",
    {
      method: "GET",
      auth: true,
      handle: async (_request, url, context, response) => {
        const params = parseFleetParams(url.searchParams, ["device", "group", "gas", "from", "to"]);
        response.writeHead(200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": 'attachment; filename="readings.csv"',
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        });
        try {
          await context.fleet.csv(params, response);
        } catch (error) {
          // The status line is gone: cutting the connection is the only way left to say it failed.
          response.destroy();
          throw error;
        }
        response.end();
        return null;
      },
    },
  ],
  [
    "/devices",
    {
      method: "GET",
      auth: true,
      handle: (_request, url, context) => {
        const params = parseFleetParams(url.searchParams, ["device", "group", "gas"]);
        const devices = context.fleet.devices(params);
        return jsonReply(200, { devices }, `${devices.length} devices`);
      },
    },
  ],
  [
    "/alerts",
    {
      method: "GET",
      auth: true,
      handle: (_request, url, context) => {
        const params = parseFleetParams(
          url.searchParams,
          ["device", "group", "gas", "from", "to", "limit"],
          { maxLimit: MAX_ALERTS_LIMIT },
        );
        const alerts = context.fleet.alerts.list({
          ...params,
          limit: params.limit ?? DEFAULT_ALERTS_LIMIT,
        });
        return jsonReply(200, { alerts }, `${alerts.length} alerts`);
      },
    },
  ],
  [
    "/ingest/alerts",
    {
      method: "POST",
      auth: true,
      handle: async (request, _url, context) => {
        const body = await readBody(request, context.maxBody);
        const parsed = parseJson(body);
        if (!alertBatchCheck.Check(parsed)) {
          const errors: FieldError[] = [];
          for (const error of Value.Errors(AlertBatch, parsed)) {
            errors.push({ field: error.path, message: error.message });
            if (errors.length > MAX_LISTED_ERRORS) break;
          }
          throw schemaViolation(errors);
        }
        const outcome = context.fleet.alerts.add(parsed, Date.now());
        return jsonReply(
          200,
          outcome,
          `${parsed.alerts.length} alerts: ${outcome.accepted} accepted, ${outcome.duplicates} duplicates`,
        );
      },
    },
  ],
]);

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new HttpError(400, "INGEST_BAD_JSON", "request body is not valid JSON", { cause: error });
  }
}

/** Static files under /static/ (scripts, styles, uPlot): no key, see `page`. */
export function serveStaticFile(
  request: IncomingMessage,
  url: URL,
  context: FleetContext,
  response: ServerResponse,
): boolean {
  if (!url.pathname.startsWith("/static/")) return false;
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  return context.fleet.files.serve(url.pathname, request.method, request.headers, response);
}
