import type { Writable } from "node:stream";

/**
 * Resolves when `out` takes writes again ('drain') or is gone ('close'): a
 * writer paced by a client that disconnects must not wait forever, and checks
 * `out.destroyed` after waiting.
 */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
  });
}
