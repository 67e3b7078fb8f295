import type { TObject } from "@sinclair/typebox";
import { GmOptionsSchema } from "./grove-gm/options-schema.js";
import { MicsOptionsSchema } from "./grove-mics6814/options-schema.js";
import { ReplayOptionsSchema } from "./replay-options.js";
import { SimOptionsSchema } from "./sim-options.js";
import { WinsenZeOptionsSchema } from "./winsen-ze/options-schema.js";

/**
 * The keys each driver accepts under `[[sensors]]` besides the common ones
 * (unknown keys are rejected). Build time (schemas/compile.ts turns them into
 * plain validators), config error messages and the JSON Schema export read
 * them; the running daemon does not.
 */
export const DRIVER_OPTION_SCHEMAS: ReadonlyArray<{ name: string; optionsSchema: TObject }> = [
  { name: "sim", optionsSchema: SimOptionsSchema },
  { name: "replay", optionsSchema: ReplayOptionsSchema },
  { name: "grove-mics6814", optionsSchema: MicsOptionsSchema },
  { name: "grove-gm", optionsSchema: GmOptionsSchema },
  { name: "winsen-ze", optionsSchema: WinsenZeOptionsSchema },
];
