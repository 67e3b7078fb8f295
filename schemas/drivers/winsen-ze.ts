import { Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../names.js";
import { MAX_DECIMALS, ZE_DEFAULTS, ZE_GASES, ZE_MODELS, ZE_MODES } from "./names.js";

/**
 * The winsen-ze driver's own `[[sensors]]` keys; defaults are applied in
 * daemon/drivers/winsen-ze/index.ts.
 */
export const WinsenZeOptionsSchema = Type.Object({
  port: Type.String({
    minLength: 1,
    description: 'Serial device the module is wired to, e.g. "/dev/serial0" (Pi GPIO 14/15 UART)',
  }),
  gas: Type.Union(
    ZE_GASES.map((gas) => Type.Literal(gas)),
    {
      description:
        'Gas the module measures, e.g. "co"; frames reporting another gas code are rejected',
    },
  ),
  baud: Type.Optional(
    Type.Integer({
      minimum: 1200,
      maximum: 115_200,
      description: `Baud rate. Default: ${ZE_DEFAULTS.baud}`,
    }),
  ),
  mode: Type.Optional(
    Type.Union(
      ZE_MODES.map((mode) => Type.Literal(mode)),
      {
        description:
          '"active": the module pushes a frame a second; "qa": sensord asks on every read. ' +
          `Default: "${ZE_DEFAULTS.mode}"`,
      },
    ),
  ),
  model: Type.Optional(
    Type.Union(
      ZE_MODELS.map((model) => Type.Literal(model)),
      {
        description: `Module family; selects the mode-switch command. Default: "${ZE_DEFAULTS.model}"`,
      },
    ),
  ),
  decimals: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_DECIMALS,
      description:
        "Q&A mode: digits after the decimal point of the reply (it carries none). " +
        "Default: learned from the module's active frames, else 1 for ze07/ze15, per gas for ze03",
    }),
  ),
  timeout: Type.Optional(
    Type.String({
      pattern: DURATION_PATTERN,
      description: `How long a read waits for a valid frame. Default: "${ZE_DEFAULTS.timeoutMs / 1000}s"`,
    }),
  ),
});
