import { chmodSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { describeError } from "../../core/errors.js";
import { Router } from "../../core/http/router.js";
import type { Logger } from "../../core/logger.js";
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
  const { socket, log } = options;
  const router = new Router(options.routes);
  const server = createServer((request, response) => {
    void handle(router, request, response, log);
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
  router: Router<ControlRoute>,
  request: IncomingMessage,
  response: ServerResponse,
  log: Logger,
): Promise<void> {
  let reply: ControlReply;
  const headers: Record<string, string> = {};
  try {
    const url = new URL(request.url ?? "/", "http://sensord");
    const match = router.match(request.method ?? "", url.pathname);
    if (match.kind === "not-found") {
      reply = problemReply(404, `no such endpoint: ${url.pathname}`);
    } else if (match.kind === "wrong-method") {
      headers.allow = match.allow;
      reply = problemReply(
        405,
        `${request.method} is not allowed on ${url.pathname}; use ${match.allow}`,
      );
    } else {
      const body = await readJson(request);
      if (body.ok === false) {
        reply = problemReply(body.status, body.error);
        // The rest of an oversized body is not read: the connection cannot be reused.
        if (body.status === 413) headers.connection = "close";
      } else {
        reply = await match.route.handle({
          body: body.value,
          query: url.searchParams,
          params: match.params,
        });
      }
    }
  } catch (error) {
    log.error(`control request ${request.method} ${request.url} failed: ${describeError(error)}`);
    reply = problemReply(500, describeError(error));
  }
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * The request's JSON body. Over MAX_BODY_BYTES (declared, or counted as it
 * arrives) reading stops at once: 413. The stream is paused, not destroyed,
 * so the answer still reaches the client.
 */
async function readJson(
  request: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; status: 400 | 413; error: string }> {
  const tooLarge = {
    ok: false,
    status: 413,
    error: `request body too large: at most ${MAX_BODY_BYTES} bytes`,
  } as const;
  if (Number(request.headers["content-length"]) > MAX_BODY_BYTES) return tooLarge;
  const body = await new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string): void => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buffer.length;
      if (size > MAX_BODY_BYTES) {
        request.off("data", onData);
        request.pause();
        resolve(null);
        return;
      }
      chunks.push(buffer);
    };
    request.on("data", onData);
    request.once("end", () => resolve(Buffer.concat(chunks)));
    request.once("error", reject);
  });
  if (body === null) return tooLarge;
  if (body.length === 0) return { ok: true, value: undefined };
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return { ok: true, value };
  } catch (error) {
    return { ok: false, status: 400, error: `request body is not JSON: ${describeError(error)}` };
  }
}
