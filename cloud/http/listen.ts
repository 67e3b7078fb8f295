/** Where the service listens: `--listen HOST:PORT`, IPv6 hosts in brackets (`[::1]:8787`). */
export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN = "127.0.0.1:8787";
export const LISTEN_HINT = 'use HOST:PORT, e.g. "127.0.0.1:8787", "0.0.0.0:0" or "[::1]:8787"';

const BRACKETED = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/;
const PLAIN = /^([^:[\]\s]+):(\d{1,5})$/;

/** "127.0.0.1:8787" -> {host, port}; null when the text is not HOST:PORT with a port 0-65535. */
export function parseListen(text: string): ListenAddress | null {
  const match = BRACKETED.exec(text.trim()) ?? PLAIN.exec(text.trim());
  if (!match) return null;
  const [, host = "", digits = ""] = match;
  const port = Number(digits);
  if (port > 65535) return null;
  return { host, port };
}

/** Base URL of a bound address; IPv6 literals need brackets in URLs. */
export function formatUrl(address: ListenAddress): string {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}
