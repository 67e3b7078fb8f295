import type { TObject } from "@sinclair/typebox";
import { GmOptionsSchema } from "./grove-gm.js";
import { MicsOptionsSchema } from "./grove-mics6814.js";
import { ReplayOptionsSchema } from "./replay.js";
import { SimOptionsSchema } from "./sim.js";
import { WinsenZeOptionsSchema } from "./winsen-ze.js";

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
