import { writeFileSync } from "node:fs";
import { GasSimulation } from "../daemon/drivers/sim.js";

/** A replay file of `lines` ticks x 4 gases with realistic values and some spikes (so alarms fire). */
export function writeReplayFile(path: string, lines: number): number {
  const simulation = new GasSimulation({ seed: 2026, spikeChance: 1 / 500 });
  const chunks: string[] = [];
  let readings = 0;
  for (let line = 0; line < lines; line++) {
    const sample = simulation.next();
    const record: Record<string, number> = {};
    for (const { gas, value } of sample.values) record[gas] = value;
    readings += sample.values.length;
    chunks.push(JSON.stringify(record));
  }
  writeFileSync(path, `${chunks.join("\n")}\n`);
  return readings;
}

export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
