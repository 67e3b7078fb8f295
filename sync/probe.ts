import { connect } from "node:net";

/**
 * Whether a TCP connection to the endpoint's host and port opens within
 * `timeoutMs`. The socket is closed at once: the server sees a connect and a
 * close, no request, so probing an endpoint that is down costs it nothing.
 */
export function tcpReachable(endpoint: string, timeoutMs: number): Promise<boolean> {
  const url = new URL(endpoint);
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  // URL keeps an IPv6 host in brackets; net.connect wants it bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return new Promise((resolveProbe) => {
    const socket = connect({ host, port });
    // A probe in flight must not hold a stopping daemon open for its timeout.
    socket.unref();
    const settle = (open: boolean) => {
      socket.destroy();
      resolveProbe(open);
    };
    socket.setTimeout(timeoutMs, () => settle(false));
    socket.once("connect", () => settle(true));
    socket.once("error", () => settle(false));
  });
}
