import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gunzipSync } from "node:zlib";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** As received (still gzip when content-encoding says so). */
  body: Buffer;
  /** Body with content-encoding undone. */
  decoded: Buffer;
  /** Which TCP connection carried it (1, 2, ...): shows keep-alive reuse. */
  connection: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type Responder = Reply | ((request: RecordedRequest) => Reply);

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** The answer for every request not covered by `enqueue`. Default 200 `{"ok":true}`. */
  respond(responder: Responder): void;
  /** One-shot answers for the next requests, in order, before falling back to `respond`. */
  enqueue(...replies: Reply[]): void;
  close(): Promise<void>;
}

/** An HTTP endpoint on 127.0.0.1 that records every request and answers what the test says. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  const sockets = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  let accepted = 0;
  let responder: Responder = { status: 200, body: '{"ok":true}' };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
        decoded: req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body,
        connection: connectionIds.get(req.socket) ?? 0,
      };
      requests.push(recorded);
      const next = queue.shift() ?? responder;
      const reply = typeof next === "function" ? next(recorded) : next;
      const payload = reply.body ?? "";
      res.writeHead(reply.status, {
        "content-length": String(Buffer.byteLength(payload)),
        ...reply.headers,
      });
      res.end(payload);
    });
  });
  server.on("connection", (socket: Socket) => {
    accepted += 1;
    connectionIds.set(socket, accepted);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    port,
    requests,
    connections: () => accepted,
    respond: (next) => {
      responder = next;
    },
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
