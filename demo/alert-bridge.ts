import { openStoreReader } from "../daemon/store/reader.js";
import type { AlertBatch } from "../schemas/alert-batch.js";

/**
 * sensord does not upload alert events (it relays them over MQTT); for the
 * fleet dashboard's "latest alerts", the demo reads them from sensord's
 * database (read-only, as sensorctl does) and posts the new ones to the
 * ingest's POST /ingest/alerts, which stores each (device, id) once.
 */
export function startAlertBridge(options: {
  dbPath: string;
  ingestUrl: string;
  device: AlertBatch["device"];
  everyMs: number;
  onError: (message: string) => void;
}): { stop: () => Promise<void> } {
  const sent = new Set<string>();
  let running: Promise<void> = Promise.resolve();
  let lastError = "";
  const tick = async (): Promise<void> => {
    let alerts: AlertBatch["alerts"];
    try {
      const reader = openStoreReader(options.dbPath);
      try {
        alerts = reader.alerts({ limit: 1000 }).filter((alert) => !sent.has(alert.id));
      } finally {
        reader.close();
      }
    } catch {
      return; // sensord has not created its database yet
    }
    if (alerts.length === 0) return;
    const batch: AlertBatch = { schema: "sensord.alerts.v1", device: options.device, alerts };
    try {
      const response = await fetch(`${options.ingestUrl}/ingest/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(batch),
      });
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
      for (const alert of alerts) sent.add(alert.id);
      lastError = "";
    } catch (error) {
      const message = `posting alerts to the ingest failed: ${error instanceof Error ? error.message : String(error)}`;
      if (message !== lastError) options.onError(message);
      lastError = message;
    }
  };
  const timer = setInterval(() => {
    running = running.then(tick);
  }, options.everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
