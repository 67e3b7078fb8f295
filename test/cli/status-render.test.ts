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

function running(extra: Partial<StatusReport>): StatusReport {
  return {
    ...withMqtt(null),
    daemon: {
      pid: 42,
      version: "0.1.0",
      startedAt: "2026-11-26T09:00:00.000Z",
      uptimeMs: 3_600_000,
      config: "/etc/sensord/sensord.toml",
      device: "pi-lab-3",
    },
    ...extra,
  };
}

describe("sensorctl status: the clock", () => {
  it("says when the clock is not synchronized and what that does to readings", () => {
    const text = renderStatus(
      running({
        clock: {
          synchronized: false,
          detail: "timedatectl: NTPSynchronized=no",
          checkedAt: "2026-11-26T09:59:30.000Z",
        },
      }),
      NOW,
    );
    expect(text.split("\n").slice(0, 3)).toEqual([
      "sensord 0.1.0: running, pid 42, up 1h, device pi-lab-3",
      "config:  /etc/sensord/sensord.toml",
      "clock:   NOT SYNCHRONIZED (timedatectl: NTPSynchronized=no): new readings are flagged clock_unsynced, their times may be wrong",
    ]);
  });

  it("a synchronized clock, and one sensord cannot ask about", () => {
    const synced = renderStatus(
      running({
        clock: { synchronized: true, detail: "timedatectl: NTPSynchronized=yes", checkedAt: null },
      }),
      NOW,
    );
    expect(synced).toContain("\nclock:   synchronized (timedatectl: NTPSynchronized=yes)\n");
    const unknown = renderStatus(
      running({
        clock: { synchronized: null, detail: "timedatectl: not installed", checkedAt: null },
      }),
      NOW,
    );
    expect(unknown).toContain(
      "\nclock:   cannot tell whether it is synchronized (timedatectl: not installed); readings are not flagged\n",
    );
  });
});

describe("sensorctl status: where to look in a browser", () => {
  it("shows the dashboard's URL next to the metrics URL", () => {
    const text = renderStatus(running({ http: { listen: "127.0.0.1:9464", error: null } }), NOW);
    expect(text.split("\n").slice(-2)).toEqual([
      "DASHBOARD http://127.0.0.1:9464/",
      "METRICS   http://127.0.0.1:9464/metrics",
    ]);
  });

  it("says how to open a dashboard that needs the token", () => {
    const text = renderStatus(
      running({ http: { listen: "192.168.1.20:9464", error: null, tokenRequired: true } }),
      NOW,
    );
    expect(text.split("\n").slice(-2)).toEqual([
      "DASHBOARD http://192.168.1.20:9464/ (open it once as http://192.168.1.20:9464/?token=<the token in http.token_file>)",
      "METRICS   http://192.168.1.20:9464/metrics",
    ]);
  });

  it("says both are down when the port could not be bound", () => {
    const text = renderStatus(
      running({ http: { listen: "127.0.0.1:9464", error: "listen EADDRINUSE" } }),
      NOW,
    );
    expect(text.split("\n").at(-1)).toBe(
      "DASHBOARD and METRICS unavailable on 127.0.0.1:9464: listen EADDRINUSE",
    );
  });
});

describe("sensorctl status: fleet thresholds", () => {
  const section = (report: StatusReport) => {
    const lines = renderStatus(report, NOW).split("\n");
    const start = lines.indexOf("FLEET THRESHOLDS");
    if (start === -1) return [];
    const end = lines.indexOf("", start);
    return lines.slice(start + 1, end === -1 ? undefined : end);
  };
  const fleet = {
    endpoint: "http://ingest:8787/fleet/desired",
    applied: {
      etag: "g3-0123abcd",
      source: "group" as const,
      version: 3,
      rules: 2,
      appliedAt: "2026-11-26T09:59:00.000Z",
    },
    refused: null,
    lastFetchAt: "2026-11-26T09:59:58.000Z",
    lastError: null,
    lastErrorAt: null,
    refusedTotal: 0,
  };

  it("shows the set applied and the last fetch", () => {
    expect(section({ ...withMqtt(null), fleet })).toEqual([
      "  applied: g3-0123abcd (group set v3, 2 rule(s)) 1m ago",
      "  last fetch 2s ago from http://ingest:8787/fleet/desired",
    ]);
  });

  it("shows a refusal with its reason, and why fetching fails", () => {
    const refused = {
      ...fleet,
      refused: {
        etag: "d1-99aa99aa",
        reason: "thresholds[0].sensor: no",
        refusedAt: "2026-11-26T09:59:30.000Z",
      },
      lastError: "connect ECONNREFUSED",
      lastErrorAt: "2026-11-26T09:59:59.000Z",
    };
    expect(section({ ...withMqtt(null), fleet: refused })).toEqual([
      "  applied: g3-0123abcd (group set v3, 2 rule(s)) 1m ago",
      "  REFUSED: d1-99aa99aa 30s ago: thresholds[0].sensor: no",
      "  last fetch 2s ago from http://ingest:8787/fleet/desired",
      "  last error: connect ECONNREFUSED (1s ago)",
    ]);
  });

  it("has no section when the fleet's thresholds are not fetched", () => {
    expect(section({ ...withMqtt(null), fleet: null })).toEqual([]);
  });
});
