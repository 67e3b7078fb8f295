import { ERROR_CODES } from "../../core/errors.js";
import type { IngestAnswer, IngestUnit } from "../store/types.js";
import { batchToUnit, originalToUnit } from "./convert.js";
import { checkJsonHead, decodeJson } from "./decode.js";
import { HttpError } from "./errors.js";
import type { CoreHead, CoreHeaders, CoreResponse } from "./exchange.js";
import type { Route } from "./route.js";
import { recordThresholdReport } from "./threshold-report.js";
import { isTimezone } from "./timezone.js";
import { classifyPayload } from "./validate.js";

/** Keys are content hashes or UUIDs; anything longer is a client bug, not a key. */
const MAX_KEY_LENGTH = 256;
export const DEFAULT_TIMEZONE = "UTC";

/**
 * POST /ingest (and /proxyLambda): a sensord.batch.v1 batch or an original
 * document, stored idempotently. A known `idempotency-key` is answered from
 * the stored answer before the body is even read.
 */
export const ingestRoute: Route = {
  method: "POST",
  auth: true,
  async beforeBody(head, context) {
    checkJsonHead(head.headers, context.maxBody);
    const key = idempotencyKey(head.headers);
    if (key === null) return null;
    const prior = await context.store.replay(key);
    return prior === null ? null : answerResponse(prior, "replayed");
  },
  async handle(request, context) {
    const headerKey = idempotencyKey(request.headers);
    const payload = classifyPayload(
      await decodeJson(request.headers, request.body, context.maxBody),
    );
    const nowMs = context.now();
    let unit: IngestUnit;
    let key = headerKey;
    if (payload.kind === "batch") {
      unit = batchToUnit(payload.batch, optionalHeader(request, "index"), nowMs);
      // A batch's id is derived from its content, so it serves as the key when the header is missing.
      key ??= payload.batch.batchId;
    } else {
      unit = originalToUnit(
        payload.document,
        {
          indexName: requiredIndex(request),
          timezone: timezoneHeader(request),
          device: optionalHeader(request, "x-device-id") ?? "",
        },
        nowMs,
      );
    }
    const outcome = await context.store.ingest(unit, key, nowMs);
    const reported =
      outcome.status < 300
        ? await recordThresholdReport(
            request.headers,
            { id: unit.device, group: unit.group },
            context,
          )
        : "";
    return answerResponse(
      outcome,
      outcome.replayed
        ? `replayed${reported}`
        : `${unit.format} ${unit.rows.length} readings: ${outcome.accepted} accepted, ${outcome.duplicates} duplicates${reported}`,
    );
  },
};

function answerResponse(answer: IngestAnswer, note: string): CoreResponse {
  return {
    status: answer.status,
    // Stripe's header name: lets a client tell a replay from fresh processing.
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...(answer.replayed ? { "idempotent-replayed": "true" } : {}),
    },
    body: answer.body,
    note,
  };
}

/** A header's trimmed value; null when absent or empty. */
function optionalHeader(head: CoreHead, name: string): string | null {
  const trimmed = head.headers[name]?.trim() ?? "";
  return trimmed === "" ? null : trimmed;
}

function idempotencyKey(headers: CoreHeaders): string | null {
  const key = headers["idempotency-key"]?.trim() ?? "";
  if (key.length > MAX_KEY_LENGTH) {
    throw new HttpError(
      400,
      ERROR_CODES.ingest.badHeader,
      `header "idempotency-key" is longer than ${MAX_KEY_LENGTH} characters`,
      { details: { header: "idempotency-key" } },
    );
  }
  return key === "" ? null : key;
}

/** The original gateway routes each document to an OpenSearch index by this header, so it is required. */
function requiredIndex(head: CoreHead): string {
  const index = optionalHeader(head, "index");
  if (index === null) {
    throw new HttpError(
      400,
      ERROR_CODES.ingest.missingHeader,
      'header "index" is required for original documents (the index name, e.g. "gasdetect")',
      { details: { header: "index" } },
    );
  }
  return index;
}

/** `x-timezone`: the IANA zone an original document's `createdtime` is local time in; UTC when absent. */
function timezoneHeader(head: CoreHead): string {
  const zone = optionalHeader(head, "x-timezone") ?? DEFAULT_TIMEZONE;
  if (!isTimezone(zone)) {
    throw new HttpError(
      400,
      ERROR_CODES.ingest.badHeader,
      `header "x-timezone": unknown time zone "${zone}"; use an IANA name such as "Asia/Seoul" or "UTC"`,
      { details: { header: "x-timezone" } },
    );
  }
  return zone;
}
