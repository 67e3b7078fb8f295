/** What other code (tests, the benchmark, the demo) reuses in-process. */

export { batchToUnit, originalToUnit } from "./core/convert.js";
export { type Admission, createIngestCore, type IngestCore, ROUTES } from "./core/core.js";
export { DEFAULT_MAX_BODY } from "./core/decode.js";
export { HttpError } from "./core/errors.js";
export type { CoreHead, CoreRequest, CoreResponse } from "./core/exchange.js";
export { DEFAULT_TIMEZONE } from "./core/ingest.js";
export { DEFAULT_READINGS_LIMIT, MAX_READINGS_LIMIT, parseReadingsQuery } from "./core/query.js";
export { isTimezone, parseWallTime, wallTimeToEpochMs } from "./core/timezone.js";
export { classifyPayload, MAX_LISTED_ERRORS, type Payload } from "./core/validate.js";
export { DEFAULT_LISTEN, formatUrl, type ListenAddress, parseListen } from "./http/listen.js";
export { type IngestServer, type IngestServerOptions, startIngestServer } from "./http/server.js";
export { isPostgresUrl, openStore, type StoreSpec } from "./store/open.js";
export { openIngestDatabase } from "./store/sqlite/db.js";
export { openSqliteStore } from "./store/sqlite/index.js";
export type * from "./store/types.js";
