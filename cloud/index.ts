/** What other code (tests, the benchmark) reuses in-process. */
export { DEFAULT_MAX_BODY, readBody } from "./body.js";
export { batchToUnit, type IngestRow, type IngestUnit, originalToUnit } from "./convert.js";
export { openIngestDatabase } from "./db.js";
export { ClientGoneError, HttpError } from "./errors.js";
export { DEFAULT_TIMEZONE } from "./ingest-route.js";
export { DEFAULT_LISTEN, formatUrl, type ListenAddress, parseListen } from "./listen.js";
export { DEFAULT_READINGS_LIMIT, MAX_READINGS_LIMIT, parseReadingsQuery } from "./query.js";
export type { ReadingFilter, WireReading } from "./readings-sql.js";
export { type IngestServer, type IngestServerOptions, startIngestServer } from "./server.js";
export {
  createIngestStore,
  type IngestOutcome,
  type IngestStats,
  type IngestStore,
  openIngestStore,
} from "./store.js";
export { isTimezone, parseWallTime, wallTimeToEpochMs } from "./timezone.js";
export { classifyPayload, MAX_LISTED_ERRORS, type Payload } from "./validate.js";
