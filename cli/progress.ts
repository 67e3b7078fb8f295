import { age } from "./status/human.js";

export interface Progress {
  uploaded: number;
  pending: number;
  /** Readings per second, measured by the caller. */
  rate: number;
}

const BAR_WIDTH = 30;

/** `[#########.....]  1200/4000  400/s  ETA 7s` for a terminal. */
export function progressBar(progress: Progress): string {
  const total = progress.uploaded + progress.pending;
  const share = total === 0 ? 1 : progress.uploaded / total;
  const filled = Math.round(share * BAR_WIDTH);
  const eta =
    progress.rate > 0 && progress.pending > 0
      ? `  ETA ${age((progress.pending / progress.rate) * 1000)}`
      : "";
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]  ${progress.uploaded}/${total}  ${Math.round(progress.rate)}/s${eta}`;
}

/** One line per update for logs and pipes. */
export function progressLine(progress: Progress): string {
  return `uploaded ${progress.uploaded}, pending ${progress.pending}, ${Math.round(progress.rate)} readings/s`;
}
