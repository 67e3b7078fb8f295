import type { IncomingMessage } from "node:http";
import { tooLarge } from "../core/decode.js";
import type { InflightBudget } from "./inflight.js";

/**
 * After refusing a body, keep reading (and dropping) up to this much of it so
 * the client can finish sending and read the answer; a client that goes on
 * past this has its connection cut.
 */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/** The client went away mid-request: there is nobody left to answer. */
export class ClientGoneError extends Error {
  constructor(options?: { cause?: unknown }) {
    super("client closed the connection before the body was read", options);
    this.name = "ClientGoneError";
  }
}

/**
 * The raw request body (still gzip'd), at most `maxBytes` on the wire, its
 * bytes counted against `budget` from the first chunk until `release` is
 * called. Past either limit, the rest is drained and dropped and the answer
 * is a 413 or a 503.
 */
export function readRawBody(
  request: IncomingMessage,
  maxBytes: number,
  budget: InflightBudget,
): Promise<{ body: Buffer; release: () => void }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const declared = Number(request.headers["content-length"]);
    // A declared length is reserved up front: 80 slow uploads must be refused
    // before they have sent their bytes, not after.
    let reserved = Number.isFinite(declared) && declared > 0 ? Math.min(declared, maxBytes) : 0;
    if (reserved > 0 && !budget.take(reserved)) {
      discard(request);
      reject(budget.refusal());
      return;
    }
    const release = (): void => {
      budget.give(reserved);
      reserved = 0;
    };
    const fail = (error: Error): void => {
      detach();
      chunks.length = 0;
      release();
      discard(request);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) {
        fail(tooLarge(maxBytes));
        return;
      }
      if (total > reserved) {
        if (!budget.take(total - reserved)) {
          fail(budget.refusal());
          return;
        }
        reserved = total;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      detach();
      resolve({ body: Buffer.concat(chunks, total), release });
    };
    const onGone = (error?: unknown): void => {
      detach();
      release();
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

/** Reads and drops the rest of a body that will not be used (see DISCARD_LIMIT). */
export function discard(request: IncomingMessage): void {
  if (request.complete) return;
  let dropped = 0;
  request.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT) request.socket.destroy();
  });
  // A discarded body's errors have no one to report to.
  request.on("error", () => {});
  request.resume();
}
