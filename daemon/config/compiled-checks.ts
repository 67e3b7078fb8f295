import {
  checkConfigTopLevel,
  checkLenientSensorEntry,
  SENSOR_ENTRY_CHECKS,
} from "../../schemas/compiled/validators.js";
import type { ShapeChecks } from "./shape-checks.js";

/**
 * A shape check failed: the caller loads explained-checks.ts and checks again
 * to say which key is wrong (load-daemon.ts).
 */
export class ShapeMismatch extends Error {
  constructor(readonly where: string) {
    super(`the config's ${where} does not match its schema`);
    this.name = "ShapeMismatch";
  }
}

/** The generated validators (schemas/compile.ts): no TypeBox at run time. */
export const compiledChecks: ShapeChecks = {
  topLevel(doc) {
    if (!checkConfigTopLevel(doc)) throw new ShapeMismatch("top level");
  },
  sensorEntry(driver, entry, prefix) {
    const check =
      driver === undefined ? checkLenientSensorEntry : SENSOR_ENTRY_CHECKS[driver]?.check;
    if (check === undefined || !check(entry)) throw new ShapeMismatch(prefix);
  },
};
