import { createConnection, createServer, type Server, type Socket } from "node:net";

/** What crossed the proxy since the last reset(); TCP payload bytes (no IP/TCP headers). */
export interface WireCounts {
  /** Client connections accepted. */
  connections: number;
  /** HTTP requests seen in the client -> server stream. */
  requests: number;
  /** Client -> server bytes: request lines, headers and bodies. */
  requestBytes: number;
  /** Of which request bodies (Content-Length bytes, as sent: gzip'd when compressed). */
  bodyBytes: number;
  /** Requests with a chunked body, which this counter cannot frame (expected: 0). */
  unframedRequests: number;
  /** Server -> client bytes: status lines, headers and response bodies. */
  responseBytes: number;
  /** performance.now() of the first client byte, or null. */
  firstRequestAt: number | null;
  /** performance.now() of the last server byte (end of the last response), or null. */
  lastResponseAt: number | null;
  /** Date.now() of the first client byte, or null: comparable with other processes' clocks. */
  firstRequestEpochMs: number | null;
  /** Date.now() of the last server byte, or null. */
  lastResponseEpochMs: number | null;
}

/**
 * A pass-through TCP proxy on 127.0.0.1 that counts what the client sends
 * and receives, and parses the client stream as HTTP/1.1 requests framed by
 * Content-Length (what undici sends for a Buffer body) to count requests and
 * body bytes. refuse()/reopen() stop and restart listening on the same port,
 * so a client sees ECONNREFUSED in between: the endpoint is down, not broken.
 */
export class CountingProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private counts: WireCounts = emptyCounts();
  private port_ = 0;

  private constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** Listens on 127.0.0.1 (a free port) and forwards every connection to `upstream` (http://host:port). */
  static async start(upstream: string): Promise<CountingProxy> {
    const url = new URL(upstream);
    const proxy = new CountingProxy(url.hostname, Number(url.port));
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this.port_;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port_}`;
  }

  snapshot(): WireCounts {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = emptyCounts();
  }

  /** Endpoint down: stop listening and drop open connections; connects are refused. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Endpoint back, on the same port. */
  async reopen(): Promise<void> {
    if (this.server === null) await this.listen(this.port_);
  }

  close(): Promise<void> {
    return this.refuse();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    this.port_ = address.port;
    this.server = server;
  }

  private accept(client: Socket): void {
    const counts = this.counts;
    counts.connections++;
    const upstream = createConnection({ host: this.upstreamHost, port: this.upstreamPort });
    // Both ends forward at once, as the client and server themselves do: with
    // Nagle, the tail of a request body could wait for a delayed ACK.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const parser = new RequestCounter(counts);
    client.on("data", (chunk: Buffer) => {
      if (counts.firstRequestAt === null) {
        counts.firstRequestAt = performance.now();
        counts.firstRequestEpochMs = Date.now();
      }
      counts.requestBytes += chunk.length;
      parser.feed(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      counts.responseBytes += chunk.length;
      counts.lastResponseAt = performance.now();
      counts.lastResponseEpochMs = Date.now();
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const finish = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", finish);
    upstream.on("error", finish);
    client.on("close", finish);
    upstream.on("close", finish);
  }
}

function emptyCounts(): WireCounts {
  return {
    connections: 0,
    requests: 0,
    requestBytes: 0,
    bodyBytes: 0,
    unframedRequests: 0,
    responseBytes: 0,
    firstRequestAt: null,
    lastResponseAt: null,
    firstRequestEpochMs: null,
    lastResponseEpochMs: null,
  };
}

const HEAD_END = Buffer.from("\r\n\r\n");

/** Splits a client byte stream into HTTP/1.1 requests (head, then Content-Length body bytes). */
class RequestCounter {
  private head = Buffer.alloc(0);
  private bodyLeft = 0;

  constructor(private readonly counts: WireCounts) {}

  feed(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, rest.length);
        this.bodyLeft -= take;
        this.counts.bodyBytes += take;
        rest = rest.subarray(take);
        continue;
      }
      const joined = this.head.length === 0 ? rest : Buffer.concat([this.head, rest]);
      const end = joined.indexOf(HEAD_END);
      if (end === -1) {
        this.head = Buffer.from(joined);
        return;
      }
      const head = joined.subarray(0, end).toString("latin1");
      this.head = Buffer.alloc(0);
      this.counts.requests++;
      // Chunked bodies are not framed here; the sync worker always sends Content-Length.
      if (/^transfer-encoding:/im.test(head)) this.counts.unframedRequests++;
      const length = /^content-length:\s*(\d+)\s*$/im.exec(head)?.[1];
      this.bodyLeft = length === undefined ? 0 : Number(length);
      rest = joined.subarray(end + HEAD_END.length);
    }
  }
}
