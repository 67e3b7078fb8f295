import { describeError, ERROR_CODES } from "../../core/errors.js";
import { Router } from "../../core/http/router.js";
import {
  type CloudStore,
  type IngestStats,
  StoreBusyError,
  StoreRejectedError,
} from "../store/types.js";
import { apiKeyCheck, hostCheck } from "./access.js";
import { errorResponse, HttpError } from "./errors.js";
import type { CoreHead, CoreRequest, CoreResponse } from "./exchange.js";
import { jsonResponse } from "./exchange.js";
import {
  alertsIngestRoute,
  alertsRoute,
  csvRoute,
  devicesRoute,
  healthRoute,
  readingsRoute,
  seriesRoute,
} from "./fleet.js";
import { ingestRoute } from "./ingest.js";
import type { AlertsStoredHook, Endpoint, Route, RouteContext } from "./route.js";
import {
  desiredRoute,
  getThresholdsRoute,
  putThresholdsRoute,
  thresholdHistoryRoute,
  thresholdStatusRoute,
} from "./thresholds.js";

export const ROUTES = new Router<Endpoint>([
  { path: "/ingest", ...ingestRoute },
  // The original API Gateway resource: clients configured with its URL keep working.
  { path: "/proxyLambda", ...ingestRoute },
  { path: "/ingest/alerts", ...alertsIngestRoute },
  { path: "/readings", ...readingsRoute },
  { path: "/readings/series", ...seriesRoute },
  { path: "/readings.csv", ...csvRoute },
  { path: "/devices", ...devicesRoute },
  { path: "/alerts", ...alertsRoute },
  { path: "/healthz", ...healthRoute },
  { path: "/fleet/thresholds", ...getThresholdsRoute },
  { path: "/fleet/thresholds", ...putThresholdsRoute },
  { path: "/fleet/thresholds/history", ...thresholdHistoryRoute },
  { path: "/fleet/thresholds/status", ...thresholdStatusRoute },
  { path: "/fleet/desired", ...desiredRoute },
]);

export interface IngestCoreOptions {
  store: CloudStore;
  /** When set, every route except /healthz needs `x-api-key: <apiKey>`. */
  apiKey: string | null;
  /** Byte limit for a request body, on the wire and after gunzip. */
  maxBody: number;
  /**
   * Without an API key: the Host names served besides loopback names and
   * `listenHost` (DNS rebinding). Null serves every host (a gateway in front
   * of the core checks it).
   */
  allowedHosts: readonly string[] | null;
  listenHost?: string | null;
  now?: () => number;
  /** Told of the alert events each `POST /ingest/alerts` stored (a retry's repeats excluded), e.g. to publish them. */
  onAlertsStored?: AlertsStoredHook;
}

/** What to do with a request whose head has been checked. */
export type Admission =
  | { kind: "answered"; response: CoreResponse }
  | { kind: "needs-body"; run(body: Buffer): Promise<CoreResponse> };

/**
 * The ingest service without HTTP plumbing or storage: routing, access,
 * validation, gzip, idempotency, conversion and answers. An adapter either
 * calls `admit` (then reads the body only when asked to) or `handle` with
 * the whole request. Every refusal is an answer, never a throw.
 */
export interface IngestCore {
  admit(head: CoreHead): Promise<Admission>;
  handle(request: CoreRequest): Promise<CoreResponse>;
  stats(): Promise<IngestStats>;
}

export function createIngestCore(options: IngestCoreOptions): IngestCore {
  const context: RouteContext = {
    store: options.store,
    maxBody: options.maxBody,
    now: options.now ?? Date.now,
    onAlertsStored: options.onAlertsStored,
    counters: { thresholdReportsMalformed: 0 },
  };
  const authorized = apiKeyCheck(options.apiKey);
  const checkHost =
    options.allowedHosts === null
      ? null
      : hostCheck(options.apiKey, options.listenHost ?? null, options.allowedHosts);

  const find = (head: CoreHead): Route => {
    const match = ROUTES.match(head.method, head.path);
    if (match.kind === "not-found") {
      throw new HttpError(404, ERROR_CODES.ingest.notFound, `no such endpoint: ${head.path}`, {
        details: { endpoints: ROUTES.paths },
      });
    }
    if (match.kind === "wrong-method") {
      throw new HttpError(
        405,
        ERROR_CODES.ingest.method,
        `${head.path} accepts ${match.allow} only`,
        {
          headers: { allow: match.allow },
        },
      );
    }
    const route = match.route;
    if (route.auth) checkHost?.(head.headers);
    if (route.auth && !authorized(head.headers)) {
      throw new HttpError(
        401,
        ERROR_CODES.ingest.unauthorized,
        'missing or wrong "x-api-key" header',
        {
          details: { header: "x-api-key" },
        },
      );
    }
    return route;
  };

  const admit = async (head: CoreHead): Promise<Admission> => {
    try {
      const route = find(head);
      if (route.beforeBody === undefined) {
        return { kind: "answered", response: await answer(route, { ...head, body: EMPTY }) };
      }
      const early = await route.beforeBody(head, context);
      if (early !== null) return { kind: "answered", response: early };
      return { kind: "needs-body", run: (body) => answer(route, { ...head, body }) };
    } catch (error) {
      return { kind: "answered", response: refusal(error) };
    }
  };

  const answer = async (route: Route, request: CoreRequest): Promise<CoreResponse> => {
    try {
      return await route.handle(request, context);
    } catch (error) {
      return refusal(error);
    }
  };

  return {
    admit,
    async handle(request) {
      const admission = await admit(request);
      return admission.kind === "answered" ? admission.response : admission.run(request.body);
    },
    stats: () => options.store.stats(),
  };
}

const EMPTY = Buffer.alloc(0);

/** A refusal the client can act on, or a 500 that says no more than that (details go to the log note). */
function refusal(error: unknown): CoreResponse {
  if (error instanceof HttpError) return errorResponse(error);
  if (error instanceof StoreBusyError) {
    return errorResponse(
      new HttpError(
        503,
        ERROR_CODES.ingest.busy,
        `${error.message}; retry after ${error.retryAfterSeconds} s`,
        {
          headers: { "retry-after": String(error.retryAfterSeconds) },
          details: { retryAfter: error.retryAfterSeconds },
        },
      ),
    );
  }
  if (error instanceof StoreRejectedError) {
    return errorResponse(
      new HttpError(422, ERROR_CODES.ingest.storeRejected, error.message, {
        details: { [error.item === "reading" ? "readingId" : "alertId"]: error.itemId },
      }),
    );
  }
  return jsonResponse(
    500,
    { error: "internal error", code: ERROR_CODES.ingest.internal },
    `internal error: ${describeError(error)}`,
  );
}
