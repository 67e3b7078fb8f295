import { describe, expect, it } from "vitest";
import { renderStatus } from "../../cli/status/render.js";
import type { MqttReport, StatusReport } from "../../daemon/control/status.js";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");

function withMqtt(mqtt: MqttReport | null): StatusReport {
  return {
    running: true,
    daemon: null,
    sensors: [],
    alarms: [],
    buffer: {
      uncommitted: 0,
      uploadPending: null,
      oldestPendingAgeMs: null,
      databaseBytes: 1024,
      maxBytes: 1024 * 1024,
      droppedReadings: 0,
    },
    sync: null,
    mqtt,
    http: null,
  };
}

function mqttSection(text: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf("MQTT");
  return start === -1 ? [] : lines.slice(start + 1);
}

describe("sensorctl status: MQTT", () => {
  it("shows the broker link, the waiting alerts and the last delivery", () => {
    const text = renderStatus(
      withMqtt({
        state: "connected",
        connected: true,
        broker: "mqtts://iot.example:8883",
        topic: "pi/1",
        queued: 0,
        deliveredTotal: 12,
        lastDeliveredAt: "2026-11-26T09:58:00.000Z",
        lastError: null,
        lastErrorAt: null,
      }),
      NOW,
    );
    expect(mqttSection(text)).toEqual([
      "  connected to mqtts://iot.example:8883, alerts on pi/1",
      expect.stringMatching(
        /^ {2}0 alert event\(s\) waiting, 12 delivered since start \(last .*2m.*\)$/,
      ),
    ]);
  });

  it("says when the broker is unreachable, how many alerts wait and why", () => {
    const lines = mqttSection(
      renderStatus(
        withMqtt({
          state: "disconnected",
          connected: false,
          broker: "mqtt://127.0.0.1:1883",
          topic: "pi/1",
          queued: 3,
          deliveredTotal: 0,
          lastDeliveredAt: null,
          lastError: "connect ECONNREFUSED 127.0.0.1:1883",
          lastErrorAt: "2026-11-26T09:59:50.000Z",
        }),
        NOW,
      ),
    );
    expect(lines[0]).toBe("  disconnected: not connected to mqtt://127.0.0.1:1883");
    expect(lines[1]).toMatch(/^ {2}3 alert event\(s\) waiting, 0 delivered since start/);
    expect(lines[2]).toMatch(/^ {2}last error: connect ECONNREFUSED 127\.0\.0\.1:1883 \(/);
  });

  it("has no MQTT section without [mqtt]", () => {
    expect(renderStatus(withMqtt(null), NOW)).not.toContain("MQTT");
  });
});
