// Device positions on a flat map: no tiles (the page works offline), no DOM here.

export interface LatLng {
  lat: number;
  lng: number;
}

/** "lat, lng" in decimal degrees (the `device.gps` format), or null when it is not that. */
export function parseGps(text: string | undefined): LatLng | null {
  if (text === undefined) return null;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (match === null) return null;
  const lat = Number(match[1]);
  const lng = Number(match[2]);
  if (Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
  return { lat, lng };
}

export interface Projected {
  x: number;
  y: number;
}

/**
 * Equirectangular projection fitted to the points' bounding box, with x
 * scaled by cos(mid latitude) so distances look right at city scale; keeps
 * the aspect ratio, centres the result, and leaves `pad` pixels around it.
 * A single point (or points at one spot) lands in the middle.
 */
export function fitProjection(
  points: LatLng[],
  width: number,
  height: number,
  pad: number,
): (point: LatLng) => Projected {
  if (points.length === 0) return () => ({ x: width / 2, y: height / 2 });
  const lats = points.map((point) => point.lat);
  const lngs = points.map((point) => point.lng);
  const minLat = Math.min(...lats);
  const maxLat = Math.max(...lats);
  const minLng = Math.min(...lngs);
  const maxLng = Math.max(...lngs);
  const xScale = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = (maxLng - minLng) * xScale;
  const spanY = maxLat - minLat;
  const usableW = Math.max(1, width - 2 * pad);
  const usableH = Math.max(1, height - 2 * pad);
  const scale =
    spanX === 0 && spanY === 0
      ? 0
      : Math.min(spanX > 0 ? usableW / spanX : Infinity, spanY > 0 ? usableH / spanY : Infinity);
  const offsetX = (width - spanX * scale) / 2;
  const offsetY = (height - spanY * scale) / 2;
  return (point) => ({
    x: offsetX + (point.lng - minLng) * xScale * scale,
    y: offsetY + (maxLat - point.lat) * scale,
  });
}
