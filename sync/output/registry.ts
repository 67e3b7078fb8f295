import type { Logger } from "../../core/logger.js";
import type { AlertUploadQueue } from "../alerts-queue.js";
import type { FleetThresholdsTarget } from "../fleet.js";
import type { MqttRelay, MqttRelayDeps, MqttStatus } from "../mqtt/relay.js";
import type { SyncQueue } from "../queue.js";
import type { SyncStatus, SyncWorkerDeps } from "../worker.js";
import type { OutputStatus } from "./contract.js";

/** What outputs need of the daemon's database: its queues, behind interfaces. */
export interface OutputStorage {
  /** The database file, for the encoder thread's own connection. */
  readonly file: string;
  readonly idPrefix: string;
  /** The readings queue as the output named `sink` sees it: its own watermark and ranges. */
  syncQueue(sink: string): SyncQueue;
  /** The alert events as the output named `sink` sees them. */
  alertUploadQueue(sink: string): AlertUploadQueue;
  mqttOutbox(): MqttRelayDeps["outbox"];
  /** The newest alert event's seq: where an output that starts now begins. */
  lastAlertSeq(): number;
  /** Calls `listener` after each commit, with what it committed. */
  onCommit(listener: (...committed: Parameters<MqttRelay["onCommit"]>) => void): void;
}

/** The parts of the daemon's config that output sections read. */
export interface OutputConfig {
  /** The config file, for error messages; null: built in. */
  source: string | null;
  device: MqttRelayDeps["device"];
  /** null: no `[sync]` section. */
  sync: SyncWorkerDeps["config"] | null;
  /** null: no `[mqtt]` section. */
  mqtt: MqttRelayDeps["config"] | null;
}

export interface OutputContext {
  config: OutputConfig;
  /** Every sensor's gases, for the relay's per-gas topics and discovery. */
  channels: MqttRelayDeps["channels"];
  storage: OutputStorage;
  /** The encoder thread's entry file; null: encode in-thread (running from TypeScript sources). */
  encoderThreadFile: string | null;
  /** The daemon's logger; a section logs under its own name. */
  log: Logger;
  /** Where `[sync]` hands the fleet's desired thresholds (daemon/fleet/); null: not fetched. */
  fleet: FleetThresholdsTarget | null;
}

/** Each config section's own status, as its code reports it. */
export interface SectionStatuses {
  sync: SyncStatus;
  mqtt: MqttStatus;
}

export type SectionName = keyof SectionStatuses;

/** A config section's outputs, started. */
export interface StartedSection<Name extends SectionName = SectionName> {
  section: Name;
  status(): SectionStatuses[Name];
  /** Each output of the section, in the shape every output reports. */
  outputs(): OutputStatus[];
  /** Runs the section's outputs now, backoffs overridden (`sync now`); absent: nothing to run. */
  runNow?: () => Promise<void>;
  stop(): Promise<void>;
}

/** Starts a configured section's outputs. */
export type SectionStarter<Name extends SectionName> = (
  context: OutputContext,
) => StartedSection<Name>;

export interface OutputSection<Name extends SectionName = SectionName> {
  /** The config section that turns the outputs on; a change needs a restart. */
  section: Name;
  /**
   * Loads the section's code, only when the section is configured: the mqtt
   * client alone is ~13 MiB of RSS once loaded and the sync worker with its
   * encoder thread more (bench/memory.ts), too much to carry on a 512 MB Pi
   * that does not use them.
   */
  load(): Promise<SectionStarter<Name>>;
}

/** Every output section, one line each, in start order. Adding one: its folder, plus a line here. */
export const OUTPUT_SECTIONS: readonly OutputSection[] = [
  { section: "sync", load: async () => (await import("../section.js")).startSync },
  { section: "mqtt", load: async () => (await import("../mqtt/section.js")).startMqtt },
];

/** Each section's status by name; a section not running is absent. */
export function sectionStatuses(started: readonly StartedSection[]): Partial<SectionStatuses> {
  const statuses: Partial<SectionStatuses> = {};
  for (const section of started) record(statuses, section);
  return statuses;
}

function record<Name extends SectionName>(
  into: Partial<SectionStatuses>,
  section: StartedSection<Name>,
): void {
  into[section.section] = section.status();
}
