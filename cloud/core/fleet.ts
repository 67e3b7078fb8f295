import { TypeCompiler } from "@sinclair/typebox/compiler";
import { planBuckets } from "../../core/buckets.js";
import { ERROR_CODES } from "../../core/errors.js";
import { AlertBatch } from "../../schemas/alert-batch.js";
import { MAX_LINES, TooManyLinesError } from "../store/types.js";
import { csvLines } from "./csv.js";
import { decodeJson, jsonHeadOnly } from "./decode.js";
import { HttpError } from "./errors.js";
import { jsonResponse } from "./exchange.js";
import { DEFAULT_SPAN_MS, DEFAULT_WIDTH, parseFleetParams } from "./params.js";
import { parseReadingsQuery } from "./query.js";
import type { Route } from "./route.js";
import { recordThresholdReport } from "./threshold-report.js";
import { listErrors, schemaViolation } from "./validate.js";

export const DEFAULT_ALERTS_LIMIT = 100;
export const MAX_ALERTS_LIMIT = 10_000;

const alertBatchCheck = TypeCompiler.Compile(AlertBatch);

/** `GET /readings`: the stored readings, oldest first. */
export const readingsRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const readings = await context.store.readings(parseReadingsQuery(request.query));
    return jsonResponse(200, { readings }, `${readings.length} readings`);
  },
};

/** `GET /readings/series`: min/max/avg/count per time bucket, one line per device, sensor, gas and unit. */
export const seriesRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const params = parseFleetParams(request.query, [
      "device",
      "group",
      "gas",
      "from",
      "to",
      "width",
    ]);
    const toMs = params.toMs ?? context.now();
    const plan = planBuckets(
      params.fromMs ?? toMs - DEFAULT_SPAN_MS,
      toMs,
      params.width ?? DEFAULT_WIDTH,
    );
    try {
      const lines = await context.store.series({
        device: params.device,
        group: params.group,
        gas: params.gas,
        plan,
      });
      return jsonResponse(
        200,
        {
          from: new Date(plan.fromMs).toISOString(),
          to: new Date(plan.toMs).toISOString(),
          bucketMs: plan.bucketMs,
          buckets: plan.count,
          lines,
        },
        `${lines.length} lines x ${plan.count} buckets`,
      );
    } catch (error) {
      if (error instanceof TooManyLinesError) {
        throw new HttpError(400, ERROR_CODES.ingest.tooManyLines, error.message, {
          details: { lines: error.lines, max: MAX_LINES },
        });
      }
      throw error;
    }
  },
};

/** `GET /readings.csv`: every matching reading, streamed. */
export const csvRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const params = parseFleetParams(request.query, ["device", "group", "gas", "from", "to"]);
    return {
      status: 200,
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": 'attachment; filename="readings.csv"',
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
      body: csvLines(context.store.csv(params)),
    };
  },
};

export const devicesRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const params = parseFleetParams(request.query, ["device", "group", "gas"]);
    const devices = await context.store.devices(params, context.now());
    return jsonResponse(200, { devices }, `${devices.length} devices`);
  },
};

export const alertsRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const params = parseFleetParams(
      request.query,
      ["device", "group", "gas", "from", "to", "limit"],
      { maxLimit: MAX_ALERTS_LIMIT },
    );
    const alerts = await context.store.alerts({
      ...params,
      limit: params.limit ?? DEFAULT_ALERTS_LIMIT,
    });
    return jsonResponse(200, { alerts }, `${alerts.length} alerts`);
  },
};

/** `POST /ingest/alerts`: alert events, each (device, event id) stored once. */
export const alertsIngestRoute: Route = {
  method: "POST",
  auth: true,
  beforeBody: jsonHeadOnly,
  async handle(request, context) {
    const parsed = await decodeJson(request.headers, request.body, context.maxBody);
    if (!alertBatchCheck.Check(parsed)) throw schemaViolation(listErrors(AlertBatch, parsed));
    const outcome = await context.store.addAlerts(parsed, context.now());
    if (outcome.storedIds.length > 0) await context.onAlertsStored?.(parsed, outcome.storedIds);
    const reported = await recordThresholdReport(request.headers, parsed.device, context);
    return jsonResponse(
      200,
      { accepted: outcome.accepted, duplicates: outcome.duplicates },
      `${parsed.alerts.length} alerts: ${outcome.accepted} accepted, ${outcome.duplicates} duplicates${reported}`,
    );
  },
};

/** `GET /healthz`: liveness and counts; needs no key. */
export const healthRoute: Route = {
  method: "GET",
  auth: false,
  async handle(_request, context) {
    return jsonResponse(200, {
      status: "ok",
      store: context.store.kind,
      ...(await context.store.stats()),
      // Counted by this process (like PostgreSQL's counts): a device sending a broken header.
      threshold_reports_malformed: context.counters.thresholdReportsMalformed,
    });
  },
};
