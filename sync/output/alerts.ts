import type { Logger } from "../../core/logger.js";
import type { BatchDevice } from "../../schemas/batch.js";
import { MAX_ALERTS_PER_BATCH } from "../alerts-batch.js";
import type { AlertUploadQueue, QueuedAlertUpload } from "../alerts-queue.js";
import { HttpOutput } from "./http.js";
import { ALERTS_OUTPUT } from "./names.js";
import { oldestFirst, RunningOutput } from "./running-output.js";
import { alertsSerializer } from "./serializers.js";

export interface AlertsUploadDeps {
  endpoint: string;
  device: BatchDevice;
  queue: AlertUploadQueue;
  /** `[sync]` settings the alert requests share with the readings upload. */
  settings: { index: string; compress: boolean; timeoutMs: number; batchMaxBytes: number };
  log: Logger;
  apiKey: () => string | null;
  /** The `x-sensord-thresholds` value each request carries (see HttpOutputOptions). */
  report?: () => string | null;
  random?: () => number;
}

/**
 * The alert upload: alert events as `sensord.alerts.v1`, oldest first, one
 * request at a time. It has its own backoff: an alerts endpoint that is
 * missing or failing (an ingest without the route answers 404) must not hold
 * back readings, nor readings trouble hold back alerts.
 */
export function alertsUpload(deps: AlertsUploadDeps): RunningOutput<QueuedAlertUpload> {
  const { queue, settings } = deps;
  return new RunningOutput({
    output: new HttpOutput({
      name: ALERTS_OUTPUT,
      url: deps.endpoint,
      index: settings.index,
      compress: settings.compress,
      timeoutMs: settings.timeoutMs,
      apiKey: deps.apiKey,
      ...(deps.report === undefined ? {} : { report: deps.report }),
    }),
    // Uploads go strictly oldest-first, so the watermark alone says what was taken.
    backlog: {
      ack: (seqs) => {
        const last = seqs.at(-1);
        if (last !== undefined) queue.markUploaded(last);
      },
      quarantine: (seqs, info) => {
        const firstSeq = seqs[0] ?? 0;
        const lastSeq = seqs.at(-1) ?? firstSeq;
        queue.quarantine({ firstSeq, lastSeq, alerts: seqs.length }, info);
      },
    },
    serialize: alertsSerializer(deps.device),
    limits: { items: MAX_ALERTS_PER_BATCH, bytes: settings.batchMaxBytes },
    drain: oldestFirst((limit) => queue.pending(limit), MAX_ALERTS_PER_BATCH),
    wording: {
      activity: "alert upload",
      items: "alert events",
      kept: "every event",
      endpoint: "alerts endpoint",
      later: "alerts",
    },
    log: deps.log,
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
}
