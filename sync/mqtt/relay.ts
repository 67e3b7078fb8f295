import { createRequire } from "node:module";
import type { IClientOptions, MqttClient } from "mqtt";
import {
  BROKER_REJECTED_BACKOFF,
  BROKER_UNREACHABLE_BACKOFF,
  backoffDelay,
} from "../../core/backoff.js";
import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { RatePacer } from "../../core/rate-pacer.js";
import type { DeviceConfig, MqttConfig } from "../../schemas/config-types.js";
import { readingId } from "../../schemas/ids.js";
import { alertPayload, MAX_PAYLOAD_BYTES } from "../../schemas/mqtt-alert.js";
import type { NewAlert, NewReading } from "../../schemas/records.js";
import { authOptions } from "./client-options.js";
import { brokerName, explainConnectError } from "./errors.js";
import { alarmTopic, type Channel, discoveryFilters, discoveryMessages } from "./homeassistant.js";
import type { MqttOutbox, QueuedAlert } from "./outbox.js";
import { readingPayload, readingTopic } from "./payload.js";
import { MqttFileError, readTlsMaterial } from "./tls.js";
import { DeliveryWindow } from "./window.js";

/**
 * mqtt's connect module, not its index: the index also loads the client's
 * stores, providers and re-exports, ~7 MiB more RSS. Required, not
 * imported: the default export of a CommonJS module is read alike everywhere.
 */
const { default: connect } = createRequire(import.meta.url)(
  "mqtt/lib/connect/index",
) as typeof import("mqtt/lib/connect/index");

export type MqttState = "connecting" | "connected" | "disconnected" | "stopped";

export interface MqttStatus {
  state: MqttState;
  connected: boolean;
  broker: string;
  topic: string;
  /** Alert events not yet acknowledged by the broker (waiting in the database). */
  queued: number;
  inFlight: number;
  /** Events acknowledged since start. */
  deliveredTotal: number;
  lastDeliveredAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface MqttRelayDeps {
  config: MqttConfig;
  device: DeviceConfig;
  /** What Home Assistant discovery announces: the daemon lists them from its drivers. */
  channels: readonly Channel[];
  outbox: MqttOutbox;
  /** Where a topic seen for the first time starts: events before enabling MQTT are not replayed. */
  startSeq: number;
  /** The database's id prefix, for reading ids in publish_readings. */
  idPrefix: string;
  log: Logger;
  random?: () => number;
  /**
   * A connection that lasts this long counts as working: the reconnect backoff
   * starts over. One the broker closes sooner does not reset it. Default 10 s.
   */
  stableAfterMs?: number;
}

/** Unacknowledged publishes at once: enough to hide the round trip, small enough to resend cheaply. */
const WINDOW = 10;
/** Rows fetched per outbox query. */
const FETCH = 100;
/** AWS IoT Core: at most 100 publishes per second per connection. */
const MAX_PUBLISHES_PER_SECOND = 100;
/** The commit hook is the fast path; this only catches anything it could miss. */
const SAFETY_POLL_MS = 5000;
/** Acks within this are written to the database as one watermark update (SD-card wear). */
const CURSOR_WRITE_MS = 200;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a disabled Home Assistant setup listens for its own retained configs to remove. */
const DISCOVERY_SWEEP_MS = 1500;
const STOP_WAIT_MS = 1000;
/** Long enough for the first publishes to be refused (a bad topic, a taken-over session). */
const STABLE_AFTER_MS = 10_000;
/** Connections in a row the broker closed before they were stable: from here on it is one state, "flapping". */
const FLAPPING_AFTER = 2;

/**
 * Relays alert events from the database to `[mqtt] topic` in seq order and
 * advances the delivery watermark only over acknowledged events (PUBACK), so
 * an outage, a bad certificate or a kill -9 delays events but never loses
 * them. One mqtt.js client per connection attempt: each attempt re-reads the
 * TLS files, and a dead connection's late callbacks cannot touch the next one.
 */
export class MqttRelay {
  private readonly config: MqttConfig;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly stableAfterMs: number;
  private readonly window = new DeliveryWindow();
  private readonly pacer = new RatePacer(MAX_PUBLISHES_PER_SECOND, 1000);
  private client: MqttClient | null = null;
  /** Bumped per connection attempt; callbacks of an older attempt are ignored. */
  private generation = 0;
  private state: MqttState = "disconnected";
  private watermark = 0;
  private savedWatermark = 0;
  /** Highest seq handed to the client on this connection. */
  private nextAfter = 0;
  private buffer: QueuedAlert[] = [];
  private failures = 0;
  /** When the current connection got its CONNACK. */
  private connectedAt = 0;
  /** Connections in a row the broker closed before stableAfterMs. */
  private shortLived = 0;
  private stableTimer: NodeJS.Timeout | null = null;
  private deliveredTotal = 0;
  private lastDeliveredAt: number | null = null;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private loggedError: string | null = null;
  private readonly loggedWarnings = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private cursorTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;

  constructor(private readonly deps: MqttRelayDeps) {
    this.config = deps.config;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.stableAfterMs = deps.stableAfterMs ?? STABLE_AFTER_MS;
  }

  start(): void {
    this.watermark = this.deps.outbox.watermark(this.config.topic, this.deps.startSeq);
    this.savedWatermark = this.watermark;
    this.nextAfter = this.watermark;
    this.pollTimer = setInterval(() => this.schedulePump(), SAFETY_POLL_MS);
    this.pollTimer.unref();
    this.connect();
  }

  /** The store's commit hook: new alerts go out now; readings too with publish_readings. */
  onCommit(readings: readonly NewReading[], alerts: readonly NewAlert[]): void {
    if (alerts.length > 0) this.schedulePump();
    if (this.config.publishReadings && readings.length > 0 && this.state === "connected") {
      const client = this.client;
      setImmediate(() => this.publishReadings(client, readings));
    }
  }

  status(): MqttStatus {
    return {
      state: this.state,
      connected: this.state === "connected",
      broker: brokerName(this.config.url),
      topic: this.config.topic,
      queued: this.deps.outbox.countAfter(this.watermark),
      inFlight: this.window.size,
      deliveredTotal: this.deliveredTotal,
      lastDeliveredAt: this.lastDeliveredAt,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
    };
  }

  /** Waits briefly for in-flight acks, saves the watermark, says "offline" and disconnects. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    const wasConnected = this.state === "connected";
    this.state = "stopped";
    for (const timer of [this.reconnectTimer, this.pumpTimer, this.pollTimer, this.stableTimer]) {
      if (timer !== null) clearTimeout(timer);
    }
    const client = this.client;
    this.client = null;
    if (client !== null && wasConnected) {
      const deadline = Date.now() + STOP_WAIT_MS;
      while (this.window.size > 0 && Date.now() < deadline) await sleep(10);
      this.saveWatermark();
      // A clean disconnect suppresses the last will, so say it ourselves.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_WAIT_MS);
        client.publish(this.config.statusTopic, "offline", { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_WAIT_MS);
        client.end(false, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } else {
      client?.end(true);
    }
    this.saveWatermark();
  }

  private connect(): void {
    if (this.state === "stopped") return;
    this.generation += 1;
    const generation = this.generation;
    this.state = "connecting";
    let material: ReturnType<typeof readTlsMaterial>;
    try {
      material = readTlsMaterial(this.config);
    } catch (error) {
      const message = error instanceof MqttFileError ? error.message : describeError(error);
      this.failed(generation, message, true);
      return;
    }
    for (const warning of material.warnings) {
      if (this.loggedWarnings.has(warning)) continue;
      this.loggedWarnings.add(warning);
      this.log.warn(warning);
    }
    const options: IClientOptions = {
      ...authOptions(this.config, material),
      clientId: this.config.clientId,
      // A persistent session (AWS IoT keeps it for an hour): the broker keeps our QoS 1 state.
      clean: false,
      keepalive: 30,
      // Reconnects are ours: backoff with jitter, and fresh TLS files each time.
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      will: {
        topic: this.config.statusTopic,
        payload: Buffer.from("offline"),
        qos: 1,
        retain: true,
      },
    };
    let client: MqttClient;
    try {
      client = connect(this.config.url, options);
    } catch (error) {
      this.failed(generation, explainConnectError(error, this.config).message, true);
      return;
    }
    this.client = client;
    let failure: { message: string; rejected: boolean } | null = null;
    client.on("error", (error) => {
      failure = explainConnectError(error, this.config);
    });
    client.on("connect", () => {
      if (generation !== this.generation || this.state === "stopped") return;
      this.connected(client);
    });
    client.on("close", () => {
      if (generation !== this.generation || this.state === "stopped") return;
      const reason = failure ?? {
        message: `${brokerName(this.config.url)} closed the connection`,
        rejected: false,
      };
      client.removeAllListeners("connect");
      client.end(true);
      this.failed(generation, reason.message, reason.rejected);
    });
  }

  private connected(client: MqttClient): void {
    this.state = "connected";
    this.connectedAt = Date.now();
    // The backoff starts over only once the connection holds: a broker that
    // accepts and then drops us at once must not be retried every second.
    const generation = this.generation;
    this.stableTimer = setTimeout(() => {
      this.stableTimer = null;
      if (generation === this.generation && this.state === "connected") this.stable();
    }, this.stableAfterMs);
    this.stableTimer.unref();
    // Right after a connection the broker dropped at once, "connected" is no
    // news yet: stable() says so once it holds.
    if (this.shortLived === 0) {
      this.logConnected("");
      this.loggedError = null;
    }
    client.publish(this.config.statusTopic, "online", { qos: 1, retain: true });
    this.homeAssistant(client);
    this.window.clear();
    this.buffer = [];
    this.nextAfter = this.watermark;
    this.schedulePump();
  }

  private logConnected(suffix: string): void {
    const broker = brokerName(this.config.url);
    const queued = this.deps.outbox.countAfter(this.watermark);
    if (this.loggedError !== null || queued > 0) {
      this.log.info(`connected to ${broker}${suffix}; ${queued} queued alert event(s) to deliver`);
    } else {
      this.log.info(`connected to ${broker}${suffix}, alerts go to "${this.config.topic}"`);
    }
  }

  /** The connection has held for stableAfterMs. */
  private stable(): void {
    this.failures = 0;
    const unannounced = this.shortLived > 0;
    this.shortLived = 0;
    if (unannounced) {
      this.logConnected(" (stable again)");
      this.loggedError = null;
    }
  }

  /** Records why an attempt failed, rewinds to the watermark and schedules the next attempt. */
  private failed(generation: number, reason: string, rejectedNow: boolean): void {
    if (generation !== this.generation || this.state === "stopped") return;
    const wasConnected = this.state === "connected";
    if (this.stableTimer !== null) {
      clearTimeout(this.stableTimer);
      this.stableTimer = null;
    }
    // Only connections dropped one after the other make the flapping state; an
    // attempt that fails outright (broker down) is an ordinary outage.
    this.shortLived =
      wasConnected && Date.now() - this.connectedAt < this.stableAfterMs ? this.shortLived + 1 : 0;
    const flapping = this.shortLived >= FLAPPING_AFTER;
    // One message for the whole flapping state, whatever each close said: its
    // cause is in the broker's log, and a text that changed per attempt would log per attempt.
    const message = flapping ? this.flappingMessage() : reason;
    const rejected = rejectedNow || flapping;
    this.state = "disconnected";
    this.client = null;
    this.window.clear();
    this.buffer = [];
    this.nextAfter = this.watermark;
    this.saveWatermark();
    this.failures += 1;
    this.lastError = message;
    this.lastErrorAt = Date.now();
    const delay = backoffDelay(
      rejected ? BROKER_REJECTED_BACKOFF : BROKER_UNREACHABLE_BACKOFF,
      this.failures,
      this.random,
    );
    // One line per change of cause, not one per attempt.
    if (message !== this.loggedError || (wasConnected && !flapping)) {
      this.loggedError = message;
      const queued = this.deps.outbox.countAfter(this.watermark);
      const retry = flapping
        ? `retrying with backoff (up to ${BROKER_REJECTED_BACKOFF.maxMs / 1000} s)`
        : "retrying";
      this.log.warn(
        `${wasConnected ? "connection lost" : "cannot connect"}: ${message}; alert events wait in the database (${queued} queued), ${retry}`,
      );
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private flappingMessage(): string {
    return (
      `${brokerName(this.config.url)} keeps closing the connection right after accepting it: ` +
      "a broker does this when a client publishes to a topic it refuses (a wildcard, an ACL or an " +
      `AWS IoT policy) or when another client connects with the same client id (${this.config.clientId}); ` +
      "see the broker's log"
    );
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Not inside the store's commit: publish after the committing code has returned.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Fills the window with the next events in seq order, within the publish rate. */
  private pump(): void {
    const client = this.client;
    if (client === null || this.state !== "connected" || this.pumpTimer !== null) return;
    const generation = this.generation;
    while (this.window.size < WINDOW) {
      if (this.buffer.length === 0) this.buffer = this.deps.outbox.after(this.nextAfter, FETCH);
      const next = this.buffer[0];
      if (next === undefined) return;
      const now = Date.now();
      const wait = this.pacer.waitMs(now);
      if (wait > 0) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = null;
          this.pump();
        }, wait);
        return;
      }
      this.buffer.shift();
      this.pacer.record(now);
      this.publishAlert(client, generation, next);
    }
  }

  private publishAlert(client: MqttClient, generation: number, queued: QueuedAlert): void {
    this.window.add(queued.seq);
    this.nextAfter = queued.seq;
    const text = JSON.stringify(alertPayload(queued.event, this.deps.device));
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
      // Cannot happen with our fields (~300 bytes); never let one event block the rest.
      this.log.error(`alert event ${queued.event.id} is over ${MAX_PAYLOAD_BYTES} bytes; skipped`);
      this.acked(generation, queued.seq);
      return;
    }
    client.publish(this.config.topic, text, { qos: this.config.qos }, (error) => {
      // An error means the connection closed; the close handler rewinds to the watermark.
      if (error === undefined || error === null) this.acked(generation, queued.seq);
    });
    if (this.config.homeassistant) {
      const event = queued.event;
      client.publish(
        alarmTopic(this.deps.device.id, event.sensor, event.gas),
        event.kind === "raise" ? "ON" : "OFF",
        { qos: 1, retain: true },
      );
    }
  }

  private acked(generation: number, seq: number): void {
    if (generation !== this.generation) return;
    this.deliveredTotal += 1;
    this.lastDeliveredAt = Date.now();
    const watermark = this.window.ack(seq);
    if (watermark !== null) {
      this.watermark = watermark;
      if (this.cursorTimer === null) {
        this.cursorTimer = setTimeout(() => {
          this.cursorTimer = null;
          this.saveWatermark();
        }, CURSOR_WRITE_MS);
      }
    }
    this.pump();
  }

  private saveWatermark(): void {
    if (this.cursorTimer !== null) {
      clearTimeout(this.cursorTimer);
      this.cursorTimer = null;
    }
    if (this.watermark === this.savedWatermark) return;
    try {
      this.deps.outbox.setWatermark(this.config.topic, this.watermark);
      this.savedWatermark = this.watermark;
    } catch (error) {
      // The events stay queued and go out again after a restart: a duplicate, never a loss.
      this.log.warn(`could not save the MQTT delivery watermark: ${describeError(error)}`);
    }
  }

  private publishReadings(client: MqttClient | null, readings: readonly NewReading[]): void {
    if (client === null || client !== this.client || this.state !== "connected") return;
    for (const reading of readings) {
      if (reading.flags !== 0) continue;
      // Live values for dashboards: QoS 0, and dropped rather than delaying alerts past the rate limit.
      const now = Date.now();
      if (this.pacer.waitMs(now) > 0) return;
      this.pacer.record(now);
      const id = readingId(this.deps.idPrefix, reading.seq);
      client.publish(
        readingTopic(this.deps.device.id, reading.sensor, reading.gas),
        JSON.stringify(readingPayload(reading, id, this.deps.device.id)),
        { qos: 0 },
      );
    }
  }

  /** Publishes the discovery configs, or removes this device's old ones when disabled. */
  private homeAssistant(client: MqttClient): void {
    if (this.config.homeassistant) {
      const messages = discoveryMessages(
        this.deps.device.id,
        this.config.statusTopic,
        this.deps.channels,
      );
      for (const message of messages) {
        client.publish(message.topic, message.payload, { qos: 1, retain: true });
      }
      return;
    }
    // Retained configs arrive on subscribe: clear each with an empty retained message.
    const filters = discoveryFilters(this.deps.device.id);
    const onMessage = (topic: string, payload: Buffer) => {
      if (payload.length > 0) client.publish(topic, "", { qos: 1, retain: true });
    };
    client.on("message", onMessage);
    client.subscribe(filters, { qos: 0 }, (error) => {
      if (error) return;
      setTimeout(() => {
        client.removeListener("message", onMessage);
        if (client.connected) client.unsubscribe(filters);
      }, DISCOVERY_SWEEP_MS).unref();
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
