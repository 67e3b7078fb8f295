import { type IoTDataPlaneClient, PublishCommand } from "@aws-sdk/client-iot-data-plane";
import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { AlertBatch } from "../../schemas/alert-batch.js";
// The relay's own payload, so cloud subscribers see what a device's MQTT sends.
import { alertPayload, MAX_PAYLOAD_BYTES } from "../../schemas/mqtt-alert.js";
import type { AlertsStoredHook } from "../core/route.js";

/** The original system's warning topic for a group (it published to `pi/1`). */
export function warningTopic(group: string): string {
  return `pi/${group}`;
}

export interface IotWarningPublisher {
  onAlertsStored: AlertsStoredHook;
  /** Publishes that failed since the container started (each is logged too). */
  readonly failures: number;
}

/**
 * Publishes the alert events a request stored to `pi/<group>` on AWS IoT
 * Core, QoS 1, for devices that do not speak MQTT themselves. One at a
 * time, in the batch's order, so a raise and its clear arrive in turn. A
 * failed publish is logged and counted but never fails the upload: the
 * event is stored already, and a retried upload would not publish it again.
 */
export function createIotWarningPublisher(
  client: IoTDataPlaneClient,
  log: Logger,
): IotWarningPublisher {
  let failures = 0;
  const onAlertsStored: AlertsStoredHook = async (batch, storedIds) => {
    const topic = warningTopic(batch.device.group);
    for (const event of newEvents(batch, storedIds)) {
      const text = JSON.stringify(alertPayload(event, batch.device));
      if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
        failures += 1;
        log.error(
          `alert event ${event.id} of ${batch.device.id} is over ${MAX_PAYLOAD_BYTES} bytes; not published`,
        );
        continue;
      }
      try {
        await client.send(new PublishCommand({ topic, qos: 1, payload: Buffer.from(text) }));
      } catch (error) {
        failures += 1;
        log.error(
          `publishing alert event ${event.id} of ${batch.device.id} to ${topic} failed ` +
            `(${failures} failed since start; the event is stored, the warning is not sent): ${describeError(error)}`,
        );
      }
    }
  };
  return {
    onAlertsStored,
    get failures() {
      return failures;
    },
  };
}

/** The batch's events the store took now, each once (a batch may repeat an event). */
function newEvents(batch: AlertBatch, storedIds: readonly string[]): AlertBatch["alerts"] {
  const pending = new Set(storedIds);
  return batch.alerts.filter((event) => pending.delete(event.id));
}
