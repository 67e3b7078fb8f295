import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { editDistance, suggest } from "../../daemon/config/suggest.js";
import { ConfigFile, configFileSchema, configSections } from "../../schemas/config.js";
import { CONFIG_SECTION_NAMES } from "../../schemas/config-types.js";
import { DRIVER_OPTION_SCHEMAS } from "../../schemas/drivers/options.js";

/** Every object schema in `schema` (depth-first), with its JSON path. */
function objects(schema: TSchema, path = "$"): [string, TSchema][] {
  const found: [string, TSchema][] = schema.type === "object" ? [[path, schema]] : [];
  for (const [key, child] of Object.entries<TSchema>(schema.properties ?? {})) {
    found.push(...objects(child, `${path}.${key}`));
  }
  if (schema.items) found.push(...objects(schema.items, `${path}[]`));
  for (const member of schema.anyOf ?? []) found.push(...objects(member, path));
  return found;
}

describe("the config file schema", () => {
  const full = configFileSchema(DRIVER_OPTION_SCHEMAS);

  it("has the sections CONFIG_SECTION_NAMES lists, in its order (problems are sorted by it)", () => {
    expect(Object.keys(configSections)).toEqual([...CONFIG_SECTION_NAMES]);
  });

  it("closes every section and describes every key", () => {
    for (const schema of [ConfigFile, full]) {
      const all = objects(schema);
      expect(all.length).toBeGreaterThan(8);
      for (const [path, object] of all) {
        expect(object.additionalProperties, path).toBe(false);
        for (const [key, property] of Object.entries<TSchema>(object.properties ?? {})) {
          expect(typeof property.description, `${path}.${key}`).toBe("string");
        }
      }
    }
  });

  it("exports as plain JSON Schema", () => {
    const json = JSON.parse(JSON.stringify(full));
    expect(json.$id).toBe("sensord.config.v1");
    expect(json.properties.storage.properties.flush_interval.description).toContain('"1s"');
  });

  it("with the drivers' keys: accepts each driver's own keys and rejects another's", () => {
    const ok = parse(
      '[[sensors]]\nid = "a"\ndriver = "sim"\nseed = 1\n[[sensors]]\nid = "b"\ndriver = "replay"\nfile = "x"\n',
    );
    expect(Value.Check(full, ok)).toBe(true);
    const mixed = parse('[[sensors]]\nid = "a"\ndriver = "sim"\nfile = "x"\n');
    expect(Value.Check(full, mixed)).toBe(false);
  });
});

describe("suggest", () => {
  it("measures edits, counting a swap of neighbours as one", () => {
    expect(editDistance("interval", "intervall")).toBe(1);
    expect(editDistance("=>", ">=")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("suggests the closest plausible candidate, or nothing", () => {
    expect(suggest("intervall", ["id", "interval", "warmup"])).toBe("interval");
    expect(suggest("Driver", ["id", "driver"])).toBe("driver");
    expect(suggest("flush", ["path", "flush_interval", "max_bytes"])).toBe("flush_interval");
    expect(suggest("colour", ["id", "group", "gps", "timezone"])).toBeNull();
  });
});
