import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { formatSize } from "../daemon/config/size.js";
import { ClientGoneError, HttpError } from "./errors.js";

export const DEFAULT_MAX_BODY = 8 * 1024 * 1024;
/**
 * After refusing a body, keep reading (and dropping) up to this much of it so
 * the client can finish sending and read the 413; a client that goes on past
 * this has its connection cut.
 */
const DISCARD_LIMIT = 64 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

/**
 * The request body, gunzipped when `content-encoding: gzip`. Neither the
 * bytes on the wire nor the inflated body may exceed `maxBytes`: reading
 * stops at the limit and inflating stops there too, so memory stays bounded
 * by the limit whatever the client sends (including a gzip bomb).
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const gzip = contentEncoding(request);
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(request);
    throw tooLarge(maxBytes);
  }
  const raw = await readRaw(request, maxBytes);
  return gzip ? inflate(raw, maxBytes) : raw;
}

/** True for gzip, false for identity; 415 for anything else. */
function contentEncoding(request: IncomingMessage): boolean {
  const encoding = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding === "gzip" || encoding === "x-gzip") return true;
  if (encoding === "identity" || encoding === "") return false;
  discard(request);
  throw new HttpError(
    415,
    "INGEST_ENCODING",
    `content-encoding "${encoding}" is not supported: send gzip or identity`,
    { details: { header: "content-encoding" } },
  );
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    "INGEST_TOO_LARGE",
    `request body exceeds the limit of ${formatSize(maxBytes)} (after gunzip)`,
    { details: { limit: maxBytes } },
  );
}

function readRaw(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) {
        detach();
        chunks.length = 0;
        discard(request);
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      detach();
      resolve(Buffer.concat(chunks, total));
    };
    const onGone = (error?: unknown): void => {
      detach();
      reject(new ClientGoneError({ cause: error }));
    };
    // 'close' before 'end' means the connection dropped mid-body.
    const onClose = (): void => {
      if (!request.complete) onGone();
    };
    const detach = (): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onGone);
      request.off("close", onClose);
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onGone);
    request.on("close", onClose);
  });
}

/** Reads and drops the rest of a refused body (see DISCARD_LIMIT). */
function discard(request: IncomingMessage): void {
  let dropped = 0;
  request.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT) request.socket.destroy();
  });
  // A discarded body's errors have no one to report to.
  request.on("error", () => {});
  request.resume();
}

async function inflate(raw: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    // maxOutputLength aborts inflation as soon as the output passes the limit.
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError && "code" in error && error.code === "ERR_BUFFER_TOO_LARGE") {
      throw tooLarge(maxBytes);
    }
    throw new HttpError(400, "INGEST_BAD_GZIP", "body is not valid gzip data", {
      details: { header: "content-encoding" },
      cause: error,
    });
  }
}
