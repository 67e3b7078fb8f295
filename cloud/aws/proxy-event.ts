import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { ERROR_CODES } from "../../core/errors.js";
import { formatSize } from "../../core/size.js";
import { errorResponse, HttpError } from "../core/errors.js";
import type { CoreHeaders, CoreRequest, CoreResponse } from "../core/exchange.js";

/**
 * A synchronous Lambda answers with at most 6 MB (the whole JSON result), a
 * tighter cap than API Gateway's 10 MB. Kept a little under it for the
 * result's own fields.
 */
export const MAX_RESULT_BYTES = 6 * 1024 * 1024 - 16 * 1024;

/** An API Gateway REST proxy event as the core's request. */
export function toCoreRequest(event: APIGatewayProxyEvent): CoreRequest {
  return {
    method: event.httpMethod,
    path: routePath(event),
    query: queryOf(event),
    headers: headersOf(event),
    body: bodyOf(event),
  };
}

/**
 * The path as the API declares it, relative to the stage. `event.path`
 * carries a custom domain's base path too ("/v1/ingest"), so the resource
 * ("/ingest", or "/{proxy+}" filled from pathParameters) is what names the route.
 */
function routePath(event: APIGatewayProxyEvent): string {
  if (!event.resource) return event.path;
  let path = event.resource;
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value === undefined) continue;
    path = path.replace(`{${name}+}`, value).replace(`{${name}}`, value);
  }
  return path;
}

/** Every value of a repeated parameter, so the core refuses repeats as the Node server does. */
function queryOf(event: APIGatewayProxyEvent): URLSearchParams {
  const query = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      for (const value of values ?? []) query.append(name, value);
    }
    return query;
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.append(name, value);
  }
  return query;
}

/** Lower-case names, a repeated header joined with ", " (as Node joins them). */
function headersOf(event: APIGatewayProxyEvent): CoreHeaders {
  const headers: Record<string, string> = {};
  const multi = event.multiValueHeaders;
  if (multi && Object.keys(multi).length > 0) {
    for (const [name, values] of Object.entries(multi)) {
      if (values === undefined || values.length === 0) continue;
      const key = name.toLowerCase();
      const joined = values.join(", ");
      headers[key] = headers[key] === undefined ? joined : `${headers[key]}, ${joined}`;
    }
    return headers;
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return headers;
}

/** The stack declares application/json a binary media type, so gzip bytes arrive base64-encoded, intact. */
function bodyOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

export interface ResultOptions {
  /** Sent as access-control-allow-origin on every answer, with vary: origin. */
  corsAllowOrigin: string | null;
  maxResultBytes?: number;
}

/**
 * The core's answer as a proxy result. Every answer of the core is text
 * (JSON or CSV), sent as UTF-8 with isBase64Encoded false: API Gateway
 * returns it byte for byte whatever the client's Accept header, whereas a
 * base64 answer is decoded only when Accept matches a binary media type.
 * A streamed CSV is collected into one string: a REST API buffers a
 * Lambda's answer whole anyway. An answer over the Lambda's 6 MB becomes a
 * 422 naming the fix instead of an invocation error (a bare 502).
 */
export async function toProxyResult(
  response: CoreResponse,
  options: ResultOptions,
): Promise<APIGatewayProxyResult> {
  const maxBytes = options.maxResultBytes ?? MAX_RESULT_BYTES;
  const body =
    typeof response.body === "string" ? response.body : await collect(response.body, maxBytes);
  const tooLarge = (): APIGatewayProxyResult => {
    const refusal = errorResponse(answerTooLarge(maxBytes));
    return proxyResult(refusal, String(refusal.body), options);
  };
  if (body === null) return tooLarge();
  const result = proxyResult(response, body, options);
  return Buffer.byteLength(JSON.stringify(result)) > maxBytes ? tooLarge() : result;
}

function proxyResult(
  response: CoreResponse,
  body: string,
  options: ResultOptions,
): APIGatewayProxyResult {
  const headers: Record<string, string> = { ...response.headers };
  if (options.corsAllowOrigin !== null) {
    headers["access-control-allow-origin"] = options.corsAllowOrigin;
    // Caches must not hand this answer to a page of another origin.
    headers.vary = "origin";
  }
  return { statusCode: response.status, headers, body, isBase64Encoded: false };
}

/** The chunks as one string, or null once they pass `maxBytes` (the stream is closed then). */
async function collect(chunks: AsyncIterable<string>, maxBytes: number): Promise<string | null> {
  const parts: string[] = [];
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk);
    // Leaving the loop returns the iterator, which releases what the store holds for it.
    if (bytes > maxBytes) return null;
    parts.push(chunk);
  }
  return parts.join("");
}

export function answerTooLarge(maxBytes: number): HttpError {
  return new HttpError(
    422,
    ERROR_CODES.ingest.answerTooLarge,
    `the answer exceeds ${formatSize(maxBytes)}, the most a Lambda behind API Gateway can return: ` +
      "narrow the query (from/to, device, group or gas) or lower limit, or query a sensord-ingest server, which streams",
    { details: { limit: maxBytes } },
  );
}
