import type { ServerResponse } from "node:http";

/** What a route answers: a status and a JSON text body. */
export interface Reply {
  status: number;
  /** JSON text. */
  body: string;
  headers?: Record<string, string>;
  /** Appended to the request's log line (counts, never payload or secrets). */
  note?: string;
}

export function jsonReply(status: number, value: unknown, note?: string): Reply {
  return { status, body: JSON.stringify(value), note };
}

export function send(response: ServerResponse, reply: Reply): void {
  if (response.headersSent || response.destroyed) return;
  const body = Buffer.from(reply.body, "utf8");
  response.writeHead(reply.status, {
    ...reply.headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
  });
  response.end(body);
}
