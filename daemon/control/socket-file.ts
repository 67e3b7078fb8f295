import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { describeError, ERROR_CODES } from "../../core/errors.js";
import { ControlSocketError } from "./errors.js";

/** How long a live sensord gets to accept a connection before its socket counts as stale. */
const PROBE_TIMEOUT_MS = 1000;

export type SocketClaim =
  /** Free (a stale file was removed): listen on it. */
  | { kind: "free" }
  /** The folder does not exist (systemd's RuntimeDirectory= creates it): run without the control API. */
  | { kind: "no-folder"; folder: string };

/**
 * Makes `path` free for this sensord to listen on. A socket file nobody
 * answers on is left over from a crash and is removed; one that answers
 * belongs to a running sensord, and starting a second one on the same socket
 * (and most likely the same database) is refused. Never removes anything
 * that is not a socket.
 */
export async function claimSocketPath(path: string): Promise<SocketClaim> {
  const folder = dirname(path);
  if (!existsSync(folder)) return { kind: "no-folder", folder };
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return { kind: "free" };
  }
  if (!isSocket) {
    throw new ControlSocketError(
      ERROR_CODES.control.notSocket,
      path,
      "exists and is not a socket; remove it, or set [control] socket to another path",
    );
  }
  const answer = await probe(path);
  if (answer === "answers") {
    throw new ControlSocketError(
      ERROR_CODES.control.inUse,
      path,
      "another sensord is running and answers on it; stop it first (systemctl stop sensord), " +
        "or give this one its own [control] socket and [storage] path",
    );
  }
  try {
    unlinkSync(path);
  } catch (error) {
    throw new ControlSocketError(
      ERROR_CODES.control.stale,
      path,
      `is left over from an earlier run and cannot be removed (${describeError(error)}); remove it by hand`,
      { cause: error },
    );
  }
  return { kind: "free" };
}

/** "answers" when something accepts a connection on `path`; "stale" when nothing listens. */
function probe(path: string): Promise<"answers" | "stale"> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (result: "answers" | "stale") => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done("stale"));
    socket.once("connect", () => done("answers"));
    // ECONNREFUSED: a socket file without a listener. Anything else (EACCES as a
    // non-root user on root's socket) is also treated as "nobody we can talk to".
    socket.once("error", () => done("stale"));
  });
}
