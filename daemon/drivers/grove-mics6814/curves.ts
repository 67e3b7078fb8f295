import { MICS_GASES, type MicsChannel, type MicsGas } from "../../../schemas/drivers/names.js";

export interface Curve {
  /** The element whose Rs/R0 the curve takes. */
  channel: MicsChannel;
  /** ppm from the ratio Rs/R0 of `channel`. */
  ppm(ratio: number): number;
  /** Concentrations the curve is valid for; outside it the value is flagged, never clamped. */
  minPpm: number;
  maxPpm: number;
}

/**
 * Seeed's power-law fits, ppm = a * ratio^b, exactly as in calcGas() of
 * Seeed-Studio/Mutichannel_Gas_Sensor MutichannelGasSensor.cpp ("mod by jack" /
 * "add by jack"): CO pow(r1,-1.179)*4.385, NO2 pow(r2,1.007)/6.855,
 * NH3 pow(r0,-1.67)/1.47, C3H8 pow(r0,-2.518)*570.164, C4H10 pow(r0,-2.138)*398.107,
 * CH4 pow(r1,-4.363)*630.957, H2 pow(r1,-1.8)*0.73, C2H5OH pow(r1,-1.552)*1.622,
 * where r0/r1/r2 are the NH3/CO(RED)/NO2(OX) ratios. The NH3 constant is 1/1.47
 * (0.680), not the rounded 0.6 some summaries give, which reads NH3 about 12 % low.
 *
 * Validity windows are the MiCS-6814 detection ranges Seeed lists for the board
 * (wiki "Grove - Multichannel Gas Sensor", Features and Performance tables):
 * CO 1-1000, NO2 0.05-10, C2H5OH 10-500, H2 1-1000 ppm; NH3 1-300 ppm (the
 * Performance table; the Features list says 1-500, we keep the narrower one);
 * CH4, C3H8 and C4H10 ">1000 ppm", a lower bound only. The vendor calls the
 * board indicative, not calibrated: even inside the window these are estimates.
 */
export const CURVES: Record<MicsGas, Curve> = {
  co: { channel: "co", ppm: (r) => 4.385 * r ** -1.179, minPpm: 1, maxPpm: 1000 },
  no2: { channel: "no2", ppm: (r) => r ** 1.007 / 6.855, minPpm: 0.05, maxPpm: 10 },
  c2h5oh: { channel: "co", ppm: (r) => 1.622 * r ** -1.552, minPpm: 10, maxPpm: 500 },
  h2: { channel: "co", ppm: (r) => 0.73 * r ** -1.8, minPpm: 1, maxPpm: 1000 },
  nh3: { channel: "nh3", ppm: (r) => r ** -1.67 / 1.47, minPpm: 1, maxPpm: 300 },
  ch4: {
    channel: "co",
    ppm: (r) => 630.957 * r ** -4.363,
    minPpm: 1000,
    maxPpm: Number.POSITIVE_INFINITY,
  },
  c3h8: {
    channel: "nh3",
    ppm: (r) => 570.164 * r ** -2.518,
    minPpm: 1000,
    maxPpm: Number.POSITIVE_INFINITY,
  },
  c4h10: {
    channel: "nh3",
    ppm: (r) => 398.107 * r ** -2.138,
    minPpm: 1000,
    maxPpm: Number.POSITIVE_INFINITY,
  },
};

export function isMicsGas(name: unknown): name is MicsGas {
  return typeof name === "string" && (MICS_GASES as readonly string[]).includes(name);
}

/** The elements a set of gases needs read, in a stable order. */
export function channelsFor(gases: readonly MicsGas[]): MicsChannel[] {
  const needed = new Set(gases.map((gas) => CURVES[gas].channel));
  return (["nh3", "co", "no2"] as const).filter((channel) => needed.has(channel));
}

/**
 * Concentration from a ratio. Worked example (reference section 1): CO channel
 * A0 950, An 700 -> ratio 0.1665 -> CO 36.3, H2 18.4, C2H5OH 26.2 ppm.
 */
export function concentration(gas: MicsGas, ratio: number): { ppm: number; outOfRange: boolean } {
  const curve = CURVES[gas];
  const ppm = curve.ppm(ratio);
  return { ppm, outOfRange: !(ppm >= curve.minPpm && ppm <= curve.maxPpm) };
}
