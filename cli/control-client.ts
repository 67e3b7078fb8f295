import { request } from "node:http";
import { describeError } from "../core/errors.js";
import { CliExit, EXIT } from "./exit.js";

export interface ControlAnswer {
  status: number;
  body: unknown;
}

/** sensord is not answering on its socket: not running, or running without the control API. */
export class DaemonDown extends Error {}

/** A request that takes longer than this means a stuck daemon (`sync now --wait` waits without it). */
const REQUEST_TIMEOUT_MS = 10_000;

/** Why connecting failed, as sensorctl's exit code and message; pure, so the errno mapping is testable on its own. */
export function connectFailure(socket: string, error: unknown): CliExit | DaemonDown {
  const code = error instanceof Error && "code" in error ? String(error.code) : "";
  if (code === "EACCES" || code === "EPERM") {
    return new CliExit(
      EXIT.noPermission,
      `permission denied on ${socket}: only root and members of the sensord group may manage sensord; ` +
        "add yourself with `sudo usermod -aG sensord $USER` and log in again, or use sudo",
    );
  }
  if (code === "ENOENT" || code === "ECONNREFUSED" || code === "ENOTDIR") {
    return new DaemonDown(`sensord is not running (nothing answers on ${socket})`);
  }
  return new DaemonDown(`cannot reach sensord on ${socket}: ${describeError(error)}`);
}

/**
 * One JSON request over the control socket. Throws DaemonDown when nobody
 * answers, CliExit(77) on a permission error.
 */
export function controlRequest(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  options: { timeoutMs?: number | null } = {},
): Promise<ControlAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers:
          payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            const parsed: unknown = text === "" ? null : JSON.parse(text);
            resolve({ status: response.statusCode ?? 0, body: parsed });
          } catch {
            reject(
              new Error(
                `sensord answered ${path} with something that is not JSON: ${text.slice(0, 200)}`,
              ),
            );
          }
        });
      },
    );
    const timeoutMs = options.timeoutMs === undefined ? REQUEST_TIMEOUT_MS : options.timeoutMs;
    if (timeoutMs !== null) {
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new Error(`sensord did not answer ${method} ${path} within ${timeoutMs / 1000} s`),
        ),
      );
    }
    let connected = false;
    req.on("socket", (connection) => connection.once("connect", () => (connected = true)));
    req.on("error", (error) => {
      // Errors before the connection exists say whether sensord is there at all.
      reject(connected ? error : connectFailure(socket, error));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The error message of a control API error reply, and the fields it names. */
export function replyProblems(body: unknown): {
  error: string;
  problems: { field: string; message: string }[];
} {
  const record =
    typeof body === "object" && body !== null ? Object.fromEntries(Object.entries(body)) : {};
  const error = typeof record.error === "string" ? record.error : "sensord refused the request";
  const problems = Array.isArray(record.problems)
    ? record.problems.flatMap((item: unknown) => {
        if (typeof item !== "object" || item === null) return [];
        const entry = Object.fromEntries(Object.entries(item));
        return typeof entry.field === "string" && typeof entry.message === "string"
          ? [{ field: entry.field, message: entry.message }]
          : [];
      })
    : [];
  return { error, problems };
}
