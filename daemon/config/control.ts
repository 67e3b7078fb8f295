import { isAbsolute, resolve } from "node:path";
import type { ControlConfig } from "../../schemas/config-types.js";
import { decodeSection } from "./decode.js";
import { asTable, type Problems } from "./problems.js";

/** sun_path holds 108 bytes including the terminating NUL (unix(7)). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** `[control]` -> ControlConfig; `socket = ""` turns the control API off. */
export function resolveControl(raw: unknown, baseDir: string, problems: Problems): ControlConfig {
  const text = decodeSection("control", asTable(raw) ?? {}, problems).socket;
  if (text === "") return { socket: null };
  const socket = isAbsolute(text) ? text : resolve(baseDir, text);
  const bytes = Buffer.byteLength(socket);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    problems.add(
      "control.socket",
      `${socket} is ${bytes} bytes long; a Unix socket path can have at most ${MAX_SOCKET_PATH_BYTES}: ` +
        'choose a shorter path, e.g. "/run/sensord/sensord.sock"',
    );
  }
  return { socket };
}
