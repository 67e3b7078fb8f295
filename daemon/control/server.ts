import { chmodSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { describeError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type ControlReply, type ControlRoute, problemReply } from "./router.js";

/** Owner and group read/write: members of the service's group may manage sensord, nobody else. */
export const SOCKET_MODE = 0o660;
/** Requests are small JSON documents; anything bigger is a mistake or an attack. */
const MAX_BODY_BYTES = 64 * 1024;

export interface ControlServer {
  readonly socket: string;
  close(): Promise<void>;
}

/**
 * HTTP over a Unix socket (no TCP port; file permissions decide who may use
 * it). The caller claimed the path first (socket-file.ts).
 */
export async function startControlServer(options: {
  socket: string;
  routes: readonly ControlRoute[];
  log: Logger;
}): Promise<ControlServer> {
  const { socket, routes, log } = options;
  const server = createServer((request, response) => {
    void handle(routes, request, response, log);
  });
  // Keep-alive connections from a finished sensorctl must not hold up shutdown.
  server.keepAliveTimeout = 1000;
  // A umask of 0117 makes the socket 0660 from the moment it exists; the chmod makes it so
  // whatever umask the service was started with.
  const umask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socket, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(socket, SOCKET_MODE);
  return {
    socket,
    close: () => closeServer(server, socket),
  };
}

async function closeServer(server: Server, socket: string): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(socket);
  } catch {
    // Already gone (server.close removes it on some platforms).
  }
}

async function handle(
  routes: readonly ControlRoute[],
  request: IncomingMessage,
  response: ServerResponse,
  log: Logger,
): Promise<void> {
  let reply: ControlReply;
  try {
    const url = new URL(request.url ?? "/", "http://sensord");
    const candidates = routes.filter((route) => route.path === url.pathname);
    const route = candidates.find((candidate) => candidate.method === request.method);
    if (route === undefined) {
      reply =
        candidates.length === 0
          ? problemReply(404, `no such endpoint: ${url.pathname}`)
          : problemReply(405, `${request.method} is not allowed on ${url.pathname}`);
    } else {
      const body = await readJson(request);
      reply =
        body.ok === false
          ? problemReply(400, body.error)
          : await route.handle({ body: body.value, query: url.searchParams });
    }
  } catch (error) {
    log.error(`control request ${request.method} ${request.url} failed: ${describeError(error)}`);
    reply = problemReply(500, describeError(error));
  }
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

async function readJson(
  request: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return { ok: false, error: "request body too large" };
    chunks.push(buffer);
  }
  if (size === 0) return { ok: true, value: undefined };
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: `request body is not JSON: ${describeError(error)}` };
  }
}
