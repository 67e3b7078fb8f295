import type { I2cBusOpener } from "../drivers/i2c/bus.js";
import { listI2cBuses, scanI2cBus } from "./i2c.js";
import { probeReport } from "./report.js";
import { listSerialPorts } from "./serial.js";

export interface ProbeDeps {
  openI2cBus: I2cBusOpener;
  /** Where device nodes live; tests point this at a folder of their own. */
  devDir: string;
}

/** `sensord probe [--bus N]`: scan, list, and return the report text. */
export async function probe(busFilter: number | null, deps: ProbeDeps): Promise<string> {
  const buses = listI2cBuses(deps.devDir).filter((bus) => busFilter === null || bus === busFilter);
  const scans = [];
  for (const bus of buses) scans.push(await scanI2cBus(deps.openI2cBus, bus));
  return probeReport(scans, listSerialPorts(deps.devDir), busFilter);
}
