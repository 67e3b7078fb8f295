/**
 * The outputs' names: each one's `output` label in status and metrics, and
 * the sink its watermark and ranges are kept under in the daemon's database.
 * Kept apart from the outputs' code so the store and sensorctl can name a
 * sink without loading an output. Renaming one orphans its watermark: a
 * migration must carry the rows over.
 */
export const READINGS_OUTPUT = "http";
export const ALERTS_OUTPUT = "alerts";
