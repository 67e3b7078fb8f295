/** Earliest reading time the ingest accepts: before it a clock was never set (a Pi without RTC boots in 1970). */
export const EARLIEST_TS_MS = Date.UTC(2000, 0, 1);
/** How far ahead of the server's clock a reading may be (clock skew, time zones gone wrong). */
export const MAX_AHEAD_MS = 86_400_000;
