// The fleet map: devices as dots on a fitted flat projection, drawn in SVG.
import { fitProjection, type LatLng, parseGps } from "./geo.js";

export interface MapDevice {
  device: string;
  group: string;
  gps?: string;
  color: string;
  alarm: boolean;
}

const SVG = "http://www.w3.org/2000/svg";
/** Map labels longer than this are cut with an ellipsis (the dot's title names the device whole). */
const LABEL_CHARS = 18;

export function drawMap(
  target: HTMLElement,
  devices: MapDevice[],
  width: number,
  height: number,
): void {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("role", "img");
  const placed = devices
    .map((device) => ({ device, at: parseGps(device.gps) }))
    .filter((entry): entry is { device: MapDevice; at: LatLng } => entry.at !== null);
  svg.setAttribute("aria-label", `${placed.length} devices with a GPS position`);
  const project = fitProjection(
    placed.map((entry) => entry.at),
    width,
    height,
    30,
  );
  const frame = document.createElementNS(SVG, "rect");
  frame.setAttribute("width", String(width));
  frame.setAttribute("height", String(height));
  frame.setAttribute("class", "map-frame");
  svg.append(frame);
  for (const { device, at } of placed) {
    const { x, y } = project(at);
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", x.toFixed(1));
    dot.setAttribute("cy", y.toFixed(1));
    dot.setAttribute("r", device.alarm ? "8" : "6");
    dot.setAttribute("fill", device.color);
    dot.setAttribute("class", device.alarm ? "map-dot alarm" : "map-dot");
    dot.dataset.device = device.device;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${device.device} (group ${device.group}) at ${at.lat}, ${at.lng}`;
    dot.append(title);
    const label = document.createElementNS(SVG, "text");
    // Right of the dot, or left of it near the right edge, so the label stays on the map.
    const leftward = x > width - 130;
    label.setAttribute("x", (leftward ? x - 10 : x + 10).toFixed(1));
    label.setAttribute("y", (y + 4).toFixed(1));
    if (leftward) label.setAttribute("text-anchor", "end");
    label.textContent =
      device.device.length > LABEL_CHARS
        ? `${device.device.slice(0, LABEL_CHARS - 1)}\u2026`
        : device.device;
    const labelTitle = document.createElementNS(SVG, "title");
    labelTitle.textContent = device.device;
    label.append(labelTitle);
    svg.append(dot, label);
  }
  if (placed.length === 0) {
    const note = document.createElementNS(SVG, "text");
    note.setAttribute("x", String(width / 2));
    note.setAttribute("y", String(height / 2));
    note.setAttribute("text-anchor", "middle");
    note.textContent = "no device sent a GPS position";
    svg.append(note);
  }
  target.replaceChildren(svg);
}
