import { Type } from "@sinclair/typebox";

/** The replay driver's own `[[sensors]]` keys. */
export const ReplayOptionsSchema = Type.Object({
  file: Type.String({
    description: "NDJSON file, one object of gas values per line; relative to the config file",
  }),
  loop: Type.Optional(
    Type.Boolean({ description: "Start again at end of file (default false: stop producing)" }),
  ),
});
