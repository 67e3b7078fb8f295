import { describe, expect, it } from "vitest";
import { GasSimulation } from "../../daemon/drivers/sim.js";

describe("sim driver", () => {
  it("is reproducible from its seed and differs across seeds", () => {
    const run = (seed: number) => {
      const simulation = new GasSimulation({ seed, spikeChance: 0.05 });
      return Array.from({ length: 50 }, () => simulation.next());
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("stays near baseline (no drift) and spikes past the default thresholds now and then", () => {
    const simulation = new GasSimulation({ seed: 42, spikeChance: 1 / 60 });
    const peaks = { co: 0, no2: 0, c2h5oh: 0, h2: 0 };
    let no2Total = 0;
    const ticks = 20_000;
    for (let tick = 0; tick < ticks; tick++) {
      for (const { gas, value } of simulation.next().values) {
        if (gas in peaks)
          peaks[gas as keyof typeof peaks] = Math.max(peaks[gas as keyof typeof peaks], value);
        if (gas === "no2") no2Total += value;
        expect(value).toBeGreaterThanOrEqual(0);
      }
    }
    // Default rules: NO2 >= 88 ppb, CO >= 35 ppm, C2H5OH >= 1000 ppm, H2 >= 4000 ppm.
    expect(peaks.no2).toBeGreaterThanOrEqual(88);
    expect(peaks.co).toBeGreaterThanOrEqual(35);
    expect(peaks.c2h5oh).toBeGreaterThanOrEqual(1000);
    expect(peaks.h2).toBeGreaterThanOrEqual(4000);
    const no2Mean = no2Total / ticks;
    expect(no2Mean).toBeGreaterThan(35);
    expect(no2Mean).toBeLessThan(50);
  });
});
