import { isAbsolute, resolve } from "node:path";
import { readApiKey } from "../../core/api-key.js";
import { describeError } from "../../core/errors.js";
import type { HttpConfig } from "../../schemas/config-types.js";
import { decodeSection } from "./decode.js";
import { asTable, type Problems } from "./problems.js";

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

/**
 * `[http]` -> HttpConfig; absent: on, at the loopback default; `listen = ""`: off.
 * Off loopback the dashboard's data needs a token read from `token_file`;
 * `require_token = true` asks for it on loopback too (and lets tests exercise it).
 */
export function resolveHttp(raw: unknown, problems: Problems, baseDir = process.cwd()): HttpConfig {
  const http = decodeSection("http", asTable(raw) ?? {}, problems);
  const text = http.listen;
  if (text === "") return { listen: null, tokenFile: null };
  const listen = parseListen(text);
  if (listen === null) {
    problems.add("http.listen", `"${text}" is not an address to listen on; ${LISTEN_HINT}`);
    return { listen: null, tokenFile: null };
  }
  const file = http.token_file;
  const tokenFile = file === undefined ? null : isAbsolute(file) ? file : resolve(baseDir, file);
  const exposed = !isLoopback(listen.host);
  const required = http.require_token;
  if (required === false && exposed) {
    problems.add(
      "http.require_token",
      `cannot be false while listen = "${text}" is reachable from the network; ` +
        'remove it (and set token_file), or listen on loopback ("127.0.0.1:9464")',
    );
  }
  if (tokenFile === null) {
    if (exposed || required === true) {
      problems.add(
        "http.token_file",
        `is required ${exposed ? `because listen = "${text}" is reachable from the network` : "because require_token = true"}; ` +
          'set token_file = "/etc/sensord/http-token" (a file holding a long random token, chmod 600), ' +
          'or listen on loopback ("127.0.0.1:9464")',
      );
    }
    return { listen, tokenFile: null };
  }
  try {
    // Read only to check it now (`sensorctl config check` too); the server reads it again at start.
    readApiKey(tokenFile);
  } catch (error) {
    problems.add("http.token_file", describeError(error).replace("API key", "token"));
  }
  return { listen, tokenFile };
}

/** Addresses only this machine can reach; anything else (0.0.0.0, ::, a LAN address, a name) is exposed. */
export function isLoopback(host: string): boolean {
  return /^127(?:\.\d{1,3}){3}$/.test(host) || host === "::1" || host === "localhost";
}

/** `host:port` as a person (and a URL) writes it. */
export function formatListen(listen: { host: string; port: number }): string {
  return listen.host.includes(":")
    ? `[${listen.host}]:${listen.port}`
    : `${listen.host}:${listen.port}`;
}
