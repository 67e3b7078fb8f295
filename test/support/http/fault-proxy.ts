import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * What the proxy does with a request. `forward: true` on the failure kinds
 * sends the request upstream first, so the server has it and only the answer
 * is lost: the case idempotency keys exist for.
 */
export type Fault =
  | { kind: "pass" }
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
  /** Read the whole request, then RST the connection. */
  | { kind: "reset"; forward?: boolean }
  /** Send the status line, headers and the first half of the body, then RST. */
  | { kind: "reset-mid-body"; forward?: boolean }
  /** Read the request and never answer; the socket stays open until close(). */
  | { kind: "hang"; forward?: boolean }
  /** Send headers (declaring `declaredBytes`) and `sentBytes` of body, then nothing more. */
  | { kind: "stall-body"; status?: number; declaredBytes?: number; sentBytes?: number };

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  /** The fault applied to it. */
  fault: Fault["kind"];
}

export interface FaultProxy {
  url: string;
  port: number;
  requests: ProxiedRequest[];
  /** Responses by kind: `pass`, `respond:429`, `reset`, `reset-mid-body`, `hang`, `stall-body`, `upstream-error`. */
  counts: Record<string, number>;
  /** The fault for every request not covered by `next`. */
  set(fault: Fault): void;
  /** One-shot faults for the next requests, in order. */
  next(...faults: Fault[]): void;
  /** Endpoint down: stop listening and drop every open connection; connects are refused. */
  refuse(): Promise<void>;
  /** Endpoint back, on the same port. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "host",
  "proxy-connection",
  "upgrade",
]);

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** A fault-injecting HTTP proxy on 127.0.0.1 in front of `upstreamUrl`, switchable at runtime. */
export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  const upstreamAgent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const requests: ProxiedRequest[] = [];
  const counts: Record<string, number> = {};
  const queue: Fault[] = [];
  let fault: Fault = { kind: "pass" };
  let port = 0;

  const count = (kind: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      headers["content-length"] = String(body.length);
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent: upstreamAgent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const answerHeaders: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined && !HOP_BY_HOP.has(name)) answerHeaders[name] = value;
            }
            resolve({
              status: res.statusCode ?? 502,
              headers: answerHeaders,
              body: Buffer.concat(chunks),
            });
          });
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    current: Fault,
  ): Promise<void> => {
    const socket = req.socket;
    switch (current.kind) {
      case "respond": {
        count(`respond:${current.status}`);
        const payload = current.body ?? "";
        res.writeHead(current.status, {
          "content-length": String(Buffer.byteLength(payload)),
          ...current.headers,
        });
        res.end(payload);
        return;
      }
      case "stall-body": {
        count("stall-body");
        const declared = current.declaredBytes ?? 1000;
        res.writeHead(current.status ?? 200, { "content-length": String(declared) });
        const sent = current.sentBytes ?? 0;
        // Nothing more is ever sent after this.
        if (sent > 0) res.write("x".repeat(sent));
        else res.flushHeaders();
        return;
      }
      case "reset":
      case "hang": {
        if (current.forward) await forward(req, body);
        count(current.kind);
        if (current.kind === "reset") socket.resetAndDestroy();
        return;
      }
      case "reset-mid-body": {
        const answer = current.forward
          ? await forward(req, body)
          : { status: 200, headers: {}, body: Buffer.from('{"ok":true,"padding":"............"}') };
        count("reset-mid-body");
        const full = answer.body.length > 1 ? answer.body : Buffer.from("{}");
        res.writeHead(answer.status, {
          ...answer.headers,
          "content-length": String(full.length),
        });
        res.write(full.subarray(0, Math.floor(full.length / 2)), () => {
          // Let the first half reach the client before the RST.
          setTimeout(() => socket.resetAndDestroy(), 5);
        });
        return;
      }
      case "pass": {
        const answer = await forward(req, body);
        count("pass");
        res.writeHead(answer.status, {
          ...answer.headers,
          "content-length": String(answer.body.length),
        });
        res.end(answer.body);
        return;
      }
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const current = queue.shift() ?? fault;
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        bodyBytes: body.length,
        fault: current.kind,
      });
      handle(req, res, body, current).catch(() => {
        count("upstream-error");
        if (!res.headersSent) res.writeHead(502, { "content-length": "0" });
        res.end();
      });
    });
  });
  // A held request must not be cut off by Node's own server timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });

  await listen();
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    port,
    requests,
    counts,
    set: (next) => {
      fault = next;
    },
    next: (...faults) => {
      queue.push(...faults);
    },
    refuse: stop,
    reopen: listen,
    close: async () => {
      await stop();
      upstreamAgent.destroy();
    },
  };
}
