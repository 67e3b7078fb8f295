import { Agent as HttpAgent } from "node:http";

/**
 * Idle keep-alive sockets are closed after this. 4 s (what undici used) stays
 * under the 5 s keep-alive timeout of Node's http server and most proxies, so
 * the client drops an idle socket before the server does and a request is not
 * written into a socket the server is closing (that would surface as a reset
 * and a backoff). A server advertising `Keep-Alive: timeout=N` is honoured:
 * node's Agent then keeps the socket N - 1 s at most.
 */
export const IDLE_SOCKET_TIMEOUT_MS = 4000;

/** Sockets per origin: the worker keeps at most PIPELINE_DEPTH (3) requests in flight; this only caps a bug. */
const DEFAULT_SOCKETS_PER_ORIGIN = 4;

/**
 * A keep-alive connection pool for uploads on node:http(s): a drain of a
 * million readings is a few hundred back-to-back requests, and reconnecting
 * (TLS especially) for each would cost more Pi CPU than the gzip. node's
 * Agent pools per host:port, so the readings and alerts endpoints each get
 * their own sockets. node:https (and with it node:tls) is loaded on the
 * first https URL only.
 */
export class UploadAgent {
  private readonly http: HttpAgent;
  private https: Promise<HttpAgent> | null = null;
  private readonly agentOptions;

  constructor(
    /** TCP plus TLS handshake of a new socket; an endpoint that drops SYNs hangs here. */
    readonly connectTimeoutMs: number,
    socketsPerOrigin: number = DEFAULT_SOCKETS_PER_ORIGIN,
  ) {
    this.agentOptions = {
      keepAlive: true,
      maxSockets: socketsPerOrigin,
      timeout: IDLE_SOCKET_TIMEOUT_MS,
      // Reuse the socket used last: the others are left to idle out.
      scheduling: "lifo" as const,
    };
    this.http = new HttpAgent(this.agentOptions);
  }

  /** The agent for `url`'s protocol (http: or https:; the caller checked). */
  for(url: URL): Promise<HttpAgent> {
    if (url.protocol === "http:") return Promise.resolve(this.http);
    this.https ??= import("node:https").then(({ Agent }) => new Agent(this.agentOptions));
    return this.https;
  }

  /** Closes every socket, idle or busy (shutdown, tests). */
  async destroy(): Promise<void> {
    this.http.destroy();
    (await this.https)?.destroy();
  }
}
