import { readApiKey } from "../core/api-key.js";
import { ConfigError, describeError } from "../core/errors.js";
import { EncoderThread } from "./encoder.js";
import type { EncoderSettings } from "./encoder-protocol.js";
import { ALERTS_OUTPUT, READINGS_OUTPUT } from "./output/names.js";
import type { OutputContext, StartedSection } from "./output/registry.js";
import { SyncWorker } from "./worker.js";

/**
 * `[sync]`: the readings upload and the alert upload. The API key is read
 * now, so a missing file is a config error at start, and again each cycle
 * (see HttpOutput), so a key fixed after an auth failure is picked up.
 */
export function startSync({
  config,
  storage,
  encoderThreadFile,
  log: daemonLog,
  fleet,
}: OutputContext): StartedSection<"sync"> {
  const sync = config.sync;
  if (sync === null) throw new Error("startSync needs a [sync] section");
  const log = daemonLog.child("sync");
  let apiKey: string | null = null;
  if (sync.apiKeyFile !== null) {
    try {
      const read = readApiKey(sync.apiKeyFile);
      if (read.warning !== null) log.warn(read.warning);
      apiKey = read.key;
    } catch (error) {
      throw new ConfigError(config.source, [
        { key: "sync.api_key_file", message: describeError(error) },
      ]);
    }
  }
  const keyFile = sync.apiKeyFile;
  const currentKey = (): string | null => {
    if (keyFile === null) return null;
    try {
      apiKey = readApiKey(keyFile).key;
    } catch (error) {
      log.warn(describeError(error));
    }
    return apiKey;
  };
  const worker = new SyncWorker({
    config: sync,
    device: config.device,
    queue: storage.syncQueue(READINGS_OUTPUT),
    alertQueue: storage.alertUploadQueue(ALERTS_OUTPUT),
    log,
    apiKey: currentKey,
    ...(fleet === null ? {} : { fleet }),
    ...(encoderThreadFile !== null
      ? {
          encoder: (settings: EncoderSettings) =>
            new EncoderThread(encoderThreadFile, {
              ...settings,
              dbPath: storage.file,
              idPrefix: storage.idPrefix,
            }),
        }
      : {}),
  });
  worker.start();
  log.info(`uploading to ${sync.endpoint} (${sync.format} format, ${worker.describeSchedule()})`);
  const alerts = worker.status().alerts;
  log.info(
    alerts === null ? "alert events are not uploaded" : `alert events go to ${alerts.endpoint}`,
  );
  if (sync.fleetEndpoint !== null && fleet !== null) {
    log.info(`fleet thresholds from ${sync.fleetEndpoint}, each cycle`);
  }
  return {
    section: "sync",
    status: () => worker.status(),
    outputs: () => worker.status().outputs,
    runNow: () => worker.trigger({ force: true }),
    stop: () => worker.stop(),
  };
}
