import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { ERROR_CODES } from "../../core/errors.js";
import { formatSize } from "../../core/size.js";
import { HttpError } from "./errors.js";
import type { CoreHead, CoreHeaders } from "./exchange.js";

export const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

/**
 * Checks what a JSON POST declares before its body is read: a type other
 * than JSON is refused (a web page can post text/plain or a form to any
 * address without a preflight, so accepting them would let any page the
 * operator has open write readings into a keyless ingest), as is an
 * encoding other than gzip or identity and a declared length over the limit.
 */
export function checkJsonHead(headers: CoreHeaders, maxBody: number): void {
  contentEncoding(headers);
  contentType(headers);
  const declared = Number(headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBody) throw tooLarge(maxBody);
}

/** A route's `beforeBody` when the head's JSON checks are all it needs before the body. */
export async function jsonHeadOnly(head: CoreHead, context: { maxBody: number }): Promise<null> {
  checkJsonHead(head.headers, context.maxBody);
  return null;
}

/** The body as JSON: gunzipped when declared, never inflated past `maxBody`. */
export async function decodeJson(
  headers: CoreHeaders,
  body: Buffer,
  maxBody: number,
): Promise<unknown> {
  if (body.length > maxBody) throw tooLarge(maxBody);
  const text = contentEncoding(headers) ? await inflate(body, maxBody) : body;
  if (text.length === 0) {
    throw new HttpError(400, ERROR_CODES.ingest.badJson, "request body is empty: expected JSON");
  }
  try {
    return JSON.parse(text.toString("utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(
      400,
      ERROR_CODES.ingest.badJson,
      `request body is not valid JSON: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    ERROR_CODES.ingest.tooLarge,
    `request body exceeds the limit of ${formatSize(maxBytes)} (after gunzip)`,
    { details: { limit: maxBytes } },
  );
}

/** True for gzip, false for identity; 415 for anything else. */
function contentEncoding(headers: CoreHeaders): boolean {
  const encoding = (headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding === "gzip" || encoding === "x-gzip") return true;
  if (encoding === "identity" || encoding === "") return false;
  throw new HttpError(
    415,
    ERROR_CODES.ingest.encoding,
    `content-encoding "${encoding}" is not supported: send gzip or identity`,
    { details: { header: "content-encoding" } },
  );
}

/** `application/json`, optionally with `charset=utf-8`; 415 otherwise. */
function contentType(headers: CoreHeaders): void {
  const [type = "", ...parameters] = (headers["content-type"] ?? "").split(";");
  const json = type.trim().toLowerCase() === "application/json";
  const utf8 = parameters.every((parameter) => {
    const [name = "", value = ""] = parameter.split("=");
    return name.trim().toLowerCase() === "charset" && /^"?utf-8"?$/i.test(value.trim());
  });
  if (json && utf8) return;
  const given = headers["content-type"];
  throw new HttpError(
    415,
    ERROR_CODES.ingest.contentType,
    `content-type ${given === undefined ? "is missing" : `"${given}" is not supported`}: send "application/json" (charset utf-8 if any)`,
    { details: { header: "content-type" } },
  );
}

async function inflate(raw: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    // maxOutputLength aborts inflation as soon as the output passes the limit (a gzip bomb).
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError && "code" in error && error.code === "ERR_BUFFER_TOO_LARGE") {
      throw tooLarge(maxBytes);
    }
    throw new HttpError(400, ERROR_CODES.ingest.badGzip, "body is not valid gzip data", {
      details: { header: "content-encoding" },
      cause: error,
    });
  }
}
