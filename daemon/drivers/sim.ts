import { DURATION_HINT, parseDuration } from "../../core/duration.js";
import type { SensorConfig } from "../../schemas/config-types.js";
import { SIM_DEFAULT_SPIKE_EVERY_MS } from "../../schemas/drivers/names.js";
import type { Gas } from "../../schemas/vocabulary.js";
import type { Sample, SensorDriver } from "./driver.js";
import type { DriverDefinition } from "./registry.js";

/**
 * Baselines sit well under the default safety thresholds (thresholds/presets.ts);
 * spikes go past them so a demo shows alarms being raised and cleared.
 * Values are in each gas's default unit (no2 in ppb, the rest in ppm).
 */
const PROFILES: Partial<Record<Gas, { base: number; noise: number; spike: [number, number] }>> = {
  co: { base: 8, noise: 0.6, spike: [45, 240] },
  no2: { base: 40, noise: 2, spike: [92, 160] },
  c2h5oh: { base: 60, noise: 4, spike: [1100, 1600] },
  h2: { base: 450, noise: 20, spike: [4300, 11000] },
};
const SIMULATED_GASES = Object.keys(PROFILES) as Gas[];
/** How strongly each tick pulls a value back to its baseline (mean-reverting walk, no drift). */
const REVERSION = 0.1;

/** mulberry32: a tiny seeded PRNG, so a seed reproduces a run exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Spike {
  gas: Gas;
  peak: number;
  ticksLeft: number;
}

export interface SimOptions {
  seed: number;
  /** Probability per tick that a spike starts. */
  spikeChance: number;
}

/** The simulation itself, separate from timing so it can be tested tick by tick. */
export class GasSimulation {
  private readonly random: () => number;
  private readonly values = new Map<Gas, number>();
  private spike: Spike | null = null;

  constructor(private readonly options: SimOptions) {
    this.random = seededRandom(options.seed);
    for (const gas of SIMULATED_GASES) this.values.set(gas, PROFILES[gas]?.base ?? 0);
  }

  next(): Sample {
    if (this.spike === null && this.random() < this.options.spikeChance) {
      const gas = SIMULATED_GASES[Math.floor(this.random() * SIMULATED_GASES.length)] ?? "co";
      const [low, high] = PROFILES[gas]?.spike ?? [0, 0];
      this.spike = {
        gas,
        peak: low + this.random() * (high - low),
        ticksLeft: 3 + Math.floor(this.random() * 8),
      };
    }
    const values = SIMULATED_GASES.map((gas) => {
      const profile = PROFILES[gas] ?? { base: 0, noise: 0 };
      const previous = this.values.get(gas) ?? profile.base;
      const gaussian = (this.random() + this.random() + this.random() - 1.5) * 2;
      let value = previous + (profile.base - previous) * REVERSION + gaussian * profile.noise;
      if (this.spike?.gas === gas) value = this.spike.peak * (0.9 + this.random() * 0.1);
      value = Math.max(0, value);
      this.values.set(gas, value);
      return { gas, value: Math.round(value * 100) / 100 };
    });
    if (this.spike !== null && --this.spike.ticksLeft <= 0) {
      const gas = this.spike.gas;
      this.values.set(gas, PROFILES[gas]?.base ?? 0);
      this.spike = null;
    }
    return { values };
  }
}

export const simDriver: DriverDefinition = {
  name: "sim",
  defaultIntervalMs: 1000,
  defaultWarmupMs: 0,
  allowsFullSpeed: false,
  gases: () => [...SIMULATED_GASES],
  check(sensor, keyPrefix) {
    const spikeEvery = sensor.options.spike_every;
    const spikeEveryMs =
      typeof spikeEvery === "string" ? parseDuration(spikeEvery) : SIM_DEFAULT_SPIKE_EVERY_MS;
    if (spikeEveryMs === null || spikeEveryMs <= 0) {
      return [
        {
          key: `${keyPrefix}.spike_every`,
          message: `"${spikeEvery}" is not a positive duration; ${DURATION_HINT}`,
        },
      ];
    }
    return [];
  },
  create(sensor: SensorConfig) {
    const seed =
      typeof sensor.options.seed === "number" ? sensor.options.seed : hashSeed(sensor.id);
    const spikeEvery = sensor.options.spike_every;
    const spikeEveryMs =
      (typeof spikeEvery === "string" ? parseDuration(spikeEvery) : null) ??
      SIM_DEFAULT_SPIKE_EVERY_MS;
    const simulation = new GasSimulation({
      seed,
      spikeChance: Math.min(1, sensor.intervalMs / Math.max(1, spikeEveryMs)),
    });
    const driver: SensorDriver = {
      open: async () => {},
      read: async () => simulation.next(),
      close: async () => {},
    };
    return driver;
  },
};

/** A stable default seed per sensor id, so two sim sensors do not move in lockstep. */
function hashSeed(text: string): number {
  let hash = 2166136261;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 16777619);
  }
  return hash >>> 0;
}
