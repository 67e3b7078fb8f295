/**
 * What the ingest core takes and gives: plain data, no Node `http` types, so
 * the Node server (cloud/http/) and an AWS Lambda handler can both drive it.
 */

/** Header names in lower case; a repeated header joined with ", " as HTTP allows. */
export type CoreHeaders = Readonly<Record<string, string | undefined>>;

/** A request before its body is read. */
export interface CoreHead {
  method: string;
  /** The URL path, e.g. "/ingest", percent-decoding not applied. */
  path: string;
  query: URLSearchParams;
  headers: CoreHeaders;
}

export interface CoreRequest extends CoreHead {
  /** The body as received (still gzip'd when content-encoding says so). */
  body: Buffer;
}

/** A body the adapter sends as it is produced, waiting for each chunk to be written. */
export type StreamBody = AsyncIterable<string>;

export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  body: string | StreamBody;
  /** Appended to the request's log line (counts, never payload or secrets). */
  note?: string;
}

export function jsonResponse(
  status: number,
  value: unknown,
  note?: string,
  headers: Record<string, string> = {},
): CoreResponse {
  return {
    status,
    headers: { ...headers, "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(value),
    note,
  };
}
