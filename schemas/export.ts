import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { AlertEvent } from "./alert.js";
import { AlertBatch } from "./alert-batch.js";
import { Batch, OriginalDocument } from "./batch.js";
import { configFileSchema } from "./config.js";
import { DRIVER_OPTION_SCHEMAS } from "./drivers/options.js";
import { FleetThresholdsBody } from "./fleet-thresholds.js";
import { MqttAlertPayload, MqttReadingPayload } from "./mqtt.js";
import { Reading } from "./reading.js";

/** The wire and file formats as JSON Schema documents, for the cloud side and editors. */
export function jsonSchemas(): Record<string, TSchema> {
  return {
    "reading.v1.json": Reading,
    "alert.v1.json": AlertEvent,
    "alert-batch.v1.json": AlertBatch,
    "batch.v1.json": Batch,
    "original.v1.json": OriginalDocument,
    "mqtt-alert.v1.json": MqttAlertPayload,
    "mqtt-reading.v1.json": MqttReadingPayload,
    "config.v1.json": configFileSchema(DRIVER_OPTION_SCHEMAS),
    "fleet-thresholds.v1.json": FleetThresholdsBody,
  };
}

/** JSON text exactly as committed under schemas/json/ (a test keeps the two in step). */
export function renderSchema(schema: TSchema): string {
  return `${JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", ...schema }, null, 2)}\n`;
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const target = resolve(import.meta.dirname, "../../schemas/json");
  mkdirSync(target, { recursive: true });
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    writeFileSync(join(target, name), renderSchema(schema));
    process.stdout.write(`wrote schemas/json/${name}\n`);
  }
}
