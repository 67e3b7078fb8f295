/** sensorctl's exit codes (sysexits.h where one fits); listed in `--help` and the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** EX_UNAVAILABLE: sensord is not running (or not reachable on its socket). */
  unavailable: 69,
  /** EX_NOPERM: the control socket refused us. */
  noPermission: 77,
  /** EX_CONFIG */
  config: 78,
} as const;

export const EXIT_CODES_HELP =
  "\nExit codes: 0 ok, 1 failure, 2 usage error (the message names the argument), " +
  "69 sensord not running, 77 permission denied on the control socket, 78 configuration error.";

/** Thrown by commands to end with a specific exit code after printing `message` to stderr. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
