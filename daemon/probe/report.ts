import type { BusScan, FoundBoard } from "./i2c.js";
import type { SerialPortEntry } from "./serial.js";

const BOARD_NAMES: Record<FoundBoard["driver"], string> = {
  "grove-mics6814": "Grove Multichannel Gas Sensor v1 (MiCS-6814)",
  "grove-gm": "Grove Multichannel Gas Sensor V2 (GM-102B/302B/502B/702B)",
};

function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, "0")}`;
}

/** What `sensord probe` prints: what was found, then a config snippet to paste. */
export function probeReport(
  scans: readonly BusScan[],
  ports: readonly SerialPortEntry[],
  busFilter: number | null,
): string {
  const lines: string[] = [];
  if (scans.length === 0) {
    lines.push(
      busFilter === null
        ? "I2C: no bus found (/dev/i2c-*): nothing found. Enable I2C with `sudo raspi-config nonint do_i2c 0` and reboot."
        : `I2C: bus ${busFilter} not found (/dev/i2c-${busFilter}): nothing found.`,
    );
  }
  for (const scan of scans) {
    lines.push(`I2C bus ${scan.busNumber} (/dev/i2c-${scan.busNumber}):`);
    for (const board of scan.boards) {
      const firmware = board.driver === "grove-mics6814" ? `, firmware ${board.firmware}` : "";
      lines.push(`  ${hex(board.address)}  ${BOARD_NAMES[board.driver]}${firmware}`);
    }
    if (scan.error !== null) lines.push(`  scan failed: ${scan.error}`);
    else if (scan.boards.length === 0) lines.push("  nothing found at 0x04 or 0x08");
  }
  lines.push(ports.length === 0 ? "Serial ports: nothing found." : "Serial ports:");
  for (const port of ports) lines.push(`  ${port.path}${port.target ? ` -> ${port.target}` : ""}`);

  const boards = scans.flatMap((scan) => scan.boards);
  if (boards.length === 0 && ports.length === 0) return `${lines.join("\n")}\n`;
  lines.push("", "# Config snippet for /etc/sensord/sensord.toml:");
  boards.forEach((board, index) => {
    lines.push(
      "[[sensors]]",
      `id = "${board.driver === "grove-gm" ? "gm" : "mics"}${index}"`,
      `driver = "${board.driver}"`,
      `bus = ${board.busNumber}`,
      `address = ${hex(board.address)}`,
      "",
    );
  });
  const [firstPort] = ports;
  if (firstPort) {
    lines.push(
      "# A Winsen ZE module on a serial port (set gas to what the module measures):",
      "# [[sensors]]",
      '# id = "ze0"',
      '# driver = "winsen-ze"',
      `# port = "${firstPort.path}"`,
      '# gas = "co"',
    );
  }
  return `${lines.join("\n")}\n`;
}
