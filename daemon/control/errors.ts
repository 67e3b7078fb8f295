import { type CodeOf, SensordError } from "../../core/errors.js";

/** The control socket cannot be taken: another sensord answers on it, or the path is something else. */
export class ControlSocketError extends SensordError {
  readonly socket: string;
  constructor(
    code: CodeOf<"control">,
    socket: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `control socket ${socket}: ${message}`, options);
    this.socket = socket;
  }
}
