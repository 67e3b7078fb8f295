import { asString, asTable, type Problems } from "./problems.js";
import type { HttpConfig } from "./types.js";

/** Prometheus' registered default port for exporters of this kind; loopback so nothing is exposed by default. */
export const DEFAULT_HTTP_LISTEN = "127.0.0.1:9464";

const LISTEN_HINT =
  'write it as host:port, e.g. "127.0.0.1:9464" or "[::1]:9464" ("0.0.0.0:9464" exposes it to the network), or "" to turn it off';

/** `host:port` or `[v6]:port` -> parts; null when it is neither. Port 0 picks a free port (tests). */
export function parseListen(text: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return null;
  const port = Number(match[3]);
  const host = match[1] ?? match[2];
  if (host === undefined || port > 65535) return null;
  return { host, port };
}

/** `[http]` -> HttpConfig; absent: on, at the loopback default; `listen = ""`: off. */
export function resolveHttp(raw: unknown, problems: Problems): HttpConfig {
  const text = asString(asTable(raw)?.listen) ?? DEFAULT_HTTP_LISTEN;
  if (text === "") return { listen: null };
  const listen = parseListen(text);
  if (listen === null) {
    problems.add("http.listen", `"${text}" is not an address to listen on; ${LISTEN_HINT}`);
    return { listen: null };
  }
  return { listen };
}

/** `host:port` as a person (and a URL) writes it. */
export function formatListen(listen: { host: string; port: number }): string {
  return listen.host.includes(":")
    ? `[${listen.host}]:${listen.port}`
    : `${listen.host}:${listen.port}`;
}
