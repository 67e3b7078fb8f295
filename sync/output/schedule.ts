import type { ScheduledTask } from "node-cron";
import { nodeCron } from "../../core/cron.js";

/** When an output runs: continuously every `intervalMs`, or on a cron schedule when it is 0. */
export interface ScheduleSettings {
  intervalMs: number;
  cron: string;
}

/** Calls `run` on the schedule; the first run is the caller's to make. */
export class OutputSchedule {
  private task: ScheduledTask | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly settings: ScheduleSettings,
    private readonly run: () => void,
  ) {}

  start(): void {
    if (this.settings.intervalMs > 0) {
      this.timer = setInterval(this.run, this.settings.intervalMs);
    } else {
      this.task = nodeCron().schedule(this.settings.cron, this.run, { noOverlap: true });
    }
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    if (this.timer) clearInterval(this.timer);
  }

  /** How the schedule reads in a log line. */
  describe(): string {
    return this.settings.intervalMs > 0
      ? `every ${this.settings.intervalMs} ms`
      : `on schedule "${this.settings.cron}"`;
  }
}
