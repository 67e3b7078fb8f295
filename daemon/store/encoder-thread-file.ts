import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUILT_FILE = fileURLToPath(new URL("./encoder-thread.js", import.meta.url));

/**
 * The entry of the store's encoder thread (encoder-thread.ts), for the sync
 * worker's EncoderThread. Only the built code has it; from TypeScript sources
 * (tests run there) it is null and the worker encodes in-thread.
 */
export const ENCODER_THREAD_FILE: string | null = existsSync(BUILT_FILE) ? BUILT_FILE : null;
