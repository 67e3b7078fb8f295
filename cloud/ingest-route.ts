import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { readBody } from "./body.js";
import { batchToUnit, type IngestUnit, originalToUnit } from "./convert.js";
import { HttpError } from "./errors.js";
import type { Reply } from "./reply.js";
import type { IngestAnswer, IngestStore } from "./store.js";
import { isTimezone } from "./timezone.js";
import { classifyPayload } from "./validate.js";

export interface IngestContext {
  store: IngestStore;
  maxBody: number;
}

/** Keys are content hashes or UUIDs; anything longer is a client bug, not a key. */
const MAX_KEY_LENGTH = 256;
export const DEFAULT_TIMEZONE = "UTC";

/**
 * POST /ingest (and /proxyLambda): a sensord.batch.v1 batch or an original
 * document, stored idempotently. A known `idempotency-key` is answered from
 * the stored answer before the body is even read.
 */
export async function handleIngest(
  request: IncomingMessage,
  context: IngestContext,
): Promise<Reply> {
  const headerKey = idempotencyKey(request.headers);
  if (headerKey !== null) {
    const prior = context.store.replay(headerKey);
    if (prior !== null) return answerReply(prior, "replayed");
  }
  const body = await readBody(request, context.maxBody);
  const payload = classifyPayload(parseJson(body));
  let unit: IngestUnit;
  let key = headerKey;
  if (payload.kind === "batch") {
    unit = batchToUnit(payload.batch, optionalHeader(request.headers, "index"));
    // A batch's id is derived from its content, so it serves as the key when the header is missing.
    key ??= payload.batch.batchId;
  } else {
    unit = originalToUnit(payload.document, {
      indexName: requiredIndex(request.headers),
      timezone: timezoneHeader(request.headers),
      device: optionalHeader(request.headers, "x-device-id") ?? "",
    });
  }
  const outcome = context.store.ingest(unit, key, Date.now());
  return answerReply(
    outcome,
    outcome.replayed
      ? "replayed"
      : `${unit.format} ${unit.rows.length} readings: ${outcome.accepted} accepted, ${outcome.duplicates} duplicates`,
  );
}

function answerReply(answer: IngestAnswer, note: string): Reply {
  return {
    status: answer.status,
    body: answer.body,
    // Stripe's header name: lets a client tell a replay from fresh processing.
    headers: answer.replayed ? { "idempotent-replayed": "true" } : {},
    note,
  };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) {
    throw new HttpError(400, "INGEST_BAD_JSON", "request body is empty: expected JSON");
  }
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, "INGEST_BAD_JSON", `request body is not valid JSON: ${reason}`, {
      cause: error,
    });
  }
}

/** A header's trimmed value; null when absent or empty. */
function optionalHeader(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function idempotencyKey(headers: IncomingHttpHeaders): string | null {
  const key = optionalHeader(headers, "idempotency-key");
  if (key !== null && key.length > MAX_KEY_LENGTH) {
    throw new HttpError(
      400,
      "INGEST_BAD_HEADER",
      `header "idempotency-key" is longer than ${MAX_KEY_LENGTH} characters`,
      { details: { header: "idempotency-key" } },
    );
  }
  return key;
}

/** The original gateway routes each document to an OpenSearch index by this header, so it is required. */
function requiredIndex(headers: IncomingHttpHeaders): string {
  const index = optionalHeader(headers, "index");
  if (index === null) {
    throw new HttpError(
      400,
      "INGEST_MISSING_HEADER",
      'header "index" is required for original documents (the index name, e.g. "gasdetect")',
      { details: { header: "index" } },
    );
  }
  return index;
}

/** `x-timezone`: the IANA zone an original document's `createdtime` is local time in; UTC when absent. */
function timezoneHeader(headers: IncomingHttpHeaders): string {
  const zone = optionalHeader(headers, "x-timezone") ?? DEFAULT_TIMEZONE;
  if (!isTimezone(zone)) {
    throw new HttpError(
      400,
      "INGEST_BAD_HEADER",
      `header "x-timezone": unknown time zone "${zone}"; use an IANA name such as "Asia/Seoul" or "UTC"`,
      { details: { header: "x-timezone" } },
    );
  }
  return zone;
}
