import { SerialPort } from "serialport";
import type { SocatPair } from "./socat.js";

/**
 * A Winsen ZE module on the far end of a pty: uploads frames in active mode,
 * answers read requests in Q&A mode, switches modes on command, and records
 * every byte the driver sent. Frames are built here with an independent
 * checksum so a bug in the driver's frame code cannot hide behind shared code.
 * Writes are paced like a 9600-baud line (10 bits a byte = ~1.04 ms), in small
 * chunks, so the driver sees frames split across reads as on real hardware.
 */
export type EmulatedModel = "ze07" | "ze15" | "ze03";

export const BYTE_TIME_MS = 10_000 / 9600;

/** `(~(b1 + ... + b7) + 1) & 0xFF`, written out independently of daemon/drivers/winsen-ze. */
export function zeChecksum(bytes: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 1; index <= 7; index++) sum = (sum + (bytes[index] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}

export function withChecksum(first8: number[]): Buffer {
  return Buffer.from([...first8, zeChecksum(first8)]);
}

export interface UploadFields {
  gasCode?: number;
  unitCode?: number;
  decimals?: number;
  fullRange?: number;
}

/** Active-upload frame `FF gas unit decimals Hi Lo FullHi FullLo cs`; defaults are a ZE07-CO. */
export function uploadFrame(raw: number, fields: UploadFields = {}): Buffer {
  const full = fields.fullRange ?? 0x1388;
  return withChecksum([
    0xff,
    fields.gasCode ?? 0x04,
    fields.unitCode ?? 0x03,
    fields.decimals ?? 1,
    (raw >> 8) & 0xff,
    raw & 0xff,
    (full >> 8) & 0xff,
    full & 0xff,
  ]);
}

/** Q&A reply `FF 86 Hi Lo 00 00 00 00 cs`. */
export function replyFrame(raw: number): Buffer {
  return withChecksum([0xff, 0x86, (raw >> 8) & 0xff, raw & 0xff, 0, 0, 0, 0]);
}

/** The same frame with its checksum off by one. */
export function corrupt(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[8] = ((copy[8] ?? 0) + 1) & 0xff;
  return copy;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ZeEmulatorOptions {
  path: string;
  model?: EmulatedModel;
  mode?: "active" | "qa";
  /** Raw counts uploaded / answered (value = raw / 10^decimals). */
  raw?: number;
  upload?: UploadFields;
  /** Active-mode upload period; a real module sends one frame a second. */
  periodMs?: number;
  /** Start uploading right away (in active mode). */
  uploading?: boolean;
}

export class ZeEmulator {
  mode: "active" | "qa";
  raw: number;
  /** Every byte received from the driver, in order. */
  received: Buffer = Buffer.alloc(0);
  /** Ignore read requests (a Q&A module that stopped answering). */
  muted = false;
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<void> = Promise.resolve();
  private uploading: boolean;
  private readonly model: EmulatedModel;

  private constructor(private readonly options: ZeEmulatorOptions) {
    this.mode = options.mode ?? "active";
    this.raw = options.raw ?? 5;
    this.model = options.model ?? "ze07";
    this.uploading = options.uploading ?? false;
  }

  static async open(options: ZeEmulatorOptions): Promise<ZeEmulator> {
    const emulator = new ZeEmulator(options);
    await emulator.connect();
    return emulator;
  }

  /** Opens the emulator end (again, after the pty came back). */
  async connect(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: 9600, autoOpen: false });
    port.on("error", () => {}); // the pty vanishing is part of the tests
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(error) : resolve())),
    );
    port.on("data", (chunk: Buffer) => this.onData(chunk));
    this.port = port;
    this.timer = setInterval(() => {
      if (this.uploading && this.mode === "active")
        void this.send(uploadFrame(this.raw, this.options.upload));
    }, this.options.periodMs ?? 1000);
  }

  /** The 9-byte commands received so far (aligned on 0xFF starts). */
  commands(): Buffer[] {
    const found: Buffer[] = [];
    for (let index = 0; index + 9 <= this.received.length; ) {
      if (this.received[index] === 0xff) {
        found.push(Buffer.from(this.received.subarray(index, index + 9)));
        index += 9;
      } else index++;
    }
    return found;
  }

  async waitForCommands(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.commands().length < count) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} command(s), got ${this.received.toString("hex")}`);
      }
      await sleep(5);
    }
    return this.commands();
  }

  startUploading(): void {
    this.uploading = true;
  }

  /** No more uploads; Q&A requests are still answered unless `muted`. */
  stopUploading(): void {
    this.uploading = false;
  }

  /** The module vanishes with its port (adapter unplugged): socat SIGKILLed, this end closed. */
  async vanish(socat: SocatPair): Promise<void> {
    await socat.kill();
    await this.close();
  }

  /** Plugged back in: the same link names on fresh ptys, this end reopened. */
  async comeBack(socat: SocatPair): Promise<void> {
    await socat.restart();
    await this.connect();
  }

  /** Queues bytes, written in 1-3 byte chunks at 9600-baud pacing; resolves when sent. */
  send(bytes: Uint8Array): Promise<void> {
    const write = async () => {
      const port = this.port;
      if (port === null || !port.isOpen) return;
      for (let offset = 0, step = 0; offset < bytes.length; step++) {
        const size = Math.min(1 + (step % 3), bytes.length - offset);
        port.write(Buffer.from(bytes.subarray(offset, offset + size)));
        offset += size;
        await sleep(Math.max(1, Math.round(size * BYTE_TIME_MS)));
      }
    };
    this.queue = this.queue.then(write, write);
    return this.queue;
  }

  private handled = 0;

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    // React to each command completed since the last chunk.
    const commands = this.commands();
    for (const command of commands.slice(this.handled)) this.onCommand(command);
    this.handled = commands.length;
  }

  private onCommand(command: Buffer): void {
    if (zeChecksum(command) !== command[8]) return; // a real module ignores corrupt commands
    const [, , code, argument] = command;
    if (code === 0x78) {
      const qa = this.model === "ze03" ? 0x04 : 0x41;
      const active = this.model === "ze03" ? 0x03 : 0x40;
      if (argument === qa) this.mode = "qa";
      if (argument === active) this.mode = "active";
    } else if (code === 0x86 && this.mode === "qa" && !this.muted) {
      void this.send(replyFrame(this.raw));
    }
  }

  /** Closes the emulator end (e.g. after its pty vanished); connect() opens it again. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    await this.queue;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
