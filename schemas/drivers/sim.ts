import { Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../names.js";
import { SIM_DEFAULT_SPIKE_EVERY_MS } from "./names.js";

/** The sim driver's own `[[sensors]]` keys; defaults are applied in daemon/drivers/sim.ts. */
export const SimOptionsSchema = Type.Object({
  seed: Type.Optional(
    Type.Integer({ minimum: 0, description: "PRNG seed; the same seed replays the same run" }),
  ),
  spike_every: Type.Optional(
    Type.String({
      pattern: DURATION_PATTERN,
      description: `Mean time between spikes, a duration such as "60s". Default: "${SIM_DEFAULT_SPIKE_EVERY_MS / 1000}s"`,
    }),
  ),
});
