import { describe, expect, it } from "vitest";
import { alarmPeriods, gasCharts, thresholdLines } from "../../web/src/chart-data.js";
import { fitProjection, parseGps } from "../../web/src/geo.js";
import { initialPreset, resolveRange } from "../../web/src/time-range.js";

const line = (device: string, gas: string, t: number[], avg: number[]) => ({
  device,
  group: "1",
  sensor: "gas0",
  gas,
  unit: "ppm",
  t,
  min: avg.map((v) => v - 1),
  max: avg.map((v) => v + 1),
  avg,
  count: avg.map(() => 1),
});

const alert = (kind: "raise" | "clear", ts: number, device = "pi-a") => ({
  device,
  sensor: "gas0",
  rule: "co>=35ppm:warning",
  gas: "co",
  kind,
  severity: "warning",
  threshold: 35,
  op: ">=",
  unit: "ppm",
  ts: new Date(ts).toISOString(),
});

describe("chart data", () => {
  it("aligns each gas's lines on the union of their buckets, with gaps as null", () => {
    const charts = gasCharts([
      line("pi-a", "co", [1000, 3000], [5, 7]),
      line("pi-b", "co", [2000, 3000], [6, 8]),
      line("pi-a", "no2", [1000], [40]),
    ]);
    expect(charts.map((chart) => chart.gas)).toEqual(["co", "no2"]);
    expect(charts[0]).toMatchObject({
      x: [1, 2, 3],
      avg: [
        [5, null, 7],
        [null, 6, 8],
      ],
      max: [
        [6, null, 8],
        [null, 7, 9],
      ],
      lines: [{ label: "pi-a" }, { label: "pi-b" }],
    });
  });

  it("pairs raises with clears into alarm periods, clipped to the range", () => {
    const periods = alarmPeriods(
      [
        alert("clear", 150), // raised before the range
        alert("raise", 300),
        alert("clear", 400),
        alert("raise", 900), // still active
        alert("raise", 500, "pi-b"),
        alert("clear", 2000, "pi-b"), // cleared after the range
      ],
      100,
      1000,
    );
    expect(periods.map((p) => `${p.device} ${p.startMs}-${p.endMs}`)).toEqual([
      "pi-a 100-150",
      "pi-a 300-400",
      "pi-b 500-1000",
      "pi-a 900-1000",
    ]);
    expect(thresholdLines([alert("raise", 1), alert("clear", 2)])).toEqual([
      { gas: "co", value: 35, unit: "ppm", severity: "warning", label: "warning >= 35 ppm" },
    ]);
  });

  it("takes the thresholds in force from each device's newest alert events, whatever their age", () => {
    const at = (ts: number, device: string, threshold: number, severity = "warning") => ({
      ...alert("raise", ts, device),
      threshold,
      severity,
      rule: `co>=${threshold}ppm:${severity}`,
    });
    const lines = thresholdLines([
      at(3000, "pi-a", 50), // pi-a's rule was changed from 35 to 50
      at(1000, "pi-a", 35),
      at(2000, "pi-b", 40),
      at(500, "pi-a", 200, "critical"),
      { ...at(100, "pi-a", 88), gas: "no2", unit: "ppb" },
    ]);
    // 35 is gone: no device has it any more.
    expect(lines.map((line) => `${line.gas} ${line.label}`)).toEqual([
      "co warning >= 40 ppm",
      "co warning >= 50 ppm",
      "no2 warning >= 88 ppb",
      "co critical >= 200 ppm",
    ]);
  });

  it("opens on the preset that holds the data: 15 min for a new device, 1 h for an established one", () => {
    const now = 100 * 86_400_000;
    const min = 60_000;
    expect(initialPreset(null, null, now)).toBe("15m");
    expect(initialPreset(now - 4 * min, now - 1000, now)).toBe("15m");
    expect(initialPreset(now - 40 * min, now - 1000, now)).toBe("1h");
    expect(initialPreset(now - 30 * 86_400_000, now - 1000, now)).toBe("1h");
    // Quiet for a while: the shortest preset that reaches the newest reading.
    expect(initialPreset(now - 30 * 86_400_000, now - 20 * 60 * min, now)).toBe("24h");
    expect(initialPreset(null, now - 3 * 86_400_000, now)).toBe("7d");
    expect(initialPreset(null, now - 30 * 86_400_000, now)).toBe("7d");
  });

  it("places GPS points on a fitted flat projection, north up", () => {
    expect(parseGps("37.61002501514269, 126.99636868892937")).toEqual({
      lat: 37.61002501514269,
      lng: 126.99636868892937,
    });
    expect(parseGps("91, 0")).toBeNull();
    expect(parseGps("here")).toBeNull();
    const points = [
      { lat: 37.5, lng: 127.0 },
      { lat: 35.1, lng: 129.0 },
    ];
    const project = fitProjection(points, 400, 300, 20);
    const [north, south] = points.map(project);
    expect(north?.y).toBeLessThan(south?.y ?? 0);
    expect(north?.x).toBeLessThan(south?.x ?? 0);
    for (const p of [north, south]) {
      expect(p?.x).toBeGreaterThanOrEqual(20);
      expect(p?.x).toBeLessThanOrEqual(380);
      expect(p?.y).toBeGreaterThanOrEqual(20);
      expect(p?.y).toBeLessThanOrEqual(280);
    }
    expect(fitProjection([{ lat: 1, lng: 2 }], 400, 300, 20)({ lat: 1, lng: 2 })).toEqual({
      x: 200,
      y: 150,
    });
  });

  it("resolves presets against now and keeps a valid custom range", () => {
    expect(resolveRange("15m", null, null, 1_000_000)).toEqual({
      fromMs: 100_000,
      toMs: 1_000_000,
    });
    expect(resolveRange("custom", "5000", "9000", 1_000_000)).toEqual({ fromMs: 5000, toMs: 9000 });
    // A backwards custom range falls back to the default hour.
    expect(resolveRange("custom", "9000", "5000", 4_000_000)).toEqual({
      fromMs: 400_000,
      toMs: 4_000_000,
    });
  });
});
