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
    label.setAttribute("x", (x + 10).toFixed(1));
    label.setAttribute("y", (y + 4).toFixed(1));
    label.textContent = device.device;
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
