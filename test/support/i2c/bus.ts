import type { I2cBus, I2cBusOpener } from "../../../daemon/drivers/i2c/bus.js";

/**
 * A board's firmware as the bus sees it: each plain write is one I2C write
 * transaction, each plain read one read transaction, answered byte for byte.
 */
export interface BoardModel {
  write(bytes: number[]): void;
  read(length: number): number[];
}

/** What the next matching transfer does instead of reaching the board. */
export type Fault =
  /** Address not acknowledged: EREMOTEIO on a Pi (bcm2835), ENXIO on some adapters. */
  | { kind: "nack"; errno?: "EREMOTEIO" | "ENXIO" }
  | { kind: "eio" }
  /** The kernel adapter's own timeout. */
  | { kind: "etimedout" }
  /** An errno the drivers have no special message for. */
  | { kind: "errno"; code: string }
  /** Never settles until releaseStuck(), like a read(2) blocked on a held-low bus. */
  | { kind: "stuck" }
  /** The read returns these bytes (then 0xFF) instead of the board's reply. */
  | { kind: "garbage"; bytes: number[] }
  /** The read returns only this many of the requested bytes. */
  | { kind: "short"; bytesRead: number };

export interface FaultOptions {
  /** Only transfers to this address (default: every address). */
  address?: number;
  /** Only reads or only writes (default: either). */
  op?: "read" | "write";
  /** How many matching transfers fail (default 1; Infinity until clearFaults()). */
  times?: number;
}

export interface TransferRecord {
  op: "read" | "write";
  address: number;
  /** Bytes written, or bytes delivered to the reader. */
  bytes: number[];
  /** "ok", an errno name, "stuck", "garbage" or "short". */
  result: string;
  at: number;
}

interface PendingFault extends Required<Omit<FaultOptions, "address" | "op">> {
  fault: Fault;
  address: number | null;
  op: "read" | "write" | null;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EREMOTEIO: "remote I/O error",
  ENXIO: "no such device or address",
  EIO: "i/o error",
  ETIMEDOUT: "connection timed out",
};

/** The shape of the errors Node's fs layer (and so i2c-bus) rejects with. */
export function errnoError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const text = ERRNO_TEXT[code] ?? "unknown error";
  const error: NodeJS.ErrnoException = new Error(
    `${code}: ${text}, ${syscall}${path === undefined ? "" : ` '${path}'`}`,
  );
  error.code = code;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  return error;
}

/**
 * One emulated /dev/i2c-N with boards attached at their addresses, behind the
 * same I2cBus interface the drivers get from i2c-bus. Like i2c-bus it opens the
 * device file lazily: a missing bus (or a bus number other than this one)
 * fails each transfer with ENOENT, not the open; transfers settle
 * asynchronously, as they do from the libuv threadpool. It records every
 * transfer and counts any that start while another is still outstanding.
 */
export class EmulatedI2cBus {
  readonly transfers: TransferRecord[] = [];
  /** Transfers started while another was outstanding: the drivers must keep this at 0. */
  overlaps = 0;
  opens = 0;
  closes = 0;
  /** Transfers attempted through a handle after its close(). */
  afterClose = 0;
  private inFlight = 0;
  private readonly boards = new Map<number, BoardModel>();
  private readonly unplugged = new Set<number>();
  private state: "present" | "missing" | "denied" = "present";
  private faults: PendingFault[] = [];
  private readonly stuck: Array<(outcome: "error" | "complete") => void> = [];

  constructor(readonly busNumber = 1) {}

  attach(address: number, board: BoardModel): this {
    this.boards.set(address, board);
    return this;
  }

  /** The board stops acknowledging its address (unplugged, brown-out). */
  unplug(address: number): void {
    this.unplugged.add(address);
  }

  /** The board answers again. */
  plug(address: number): void {
    this.unplugged.delete(address);
  }

  /** /dev/i2c-N disappears (I2C disabled) or comes back. */
  setMissing(missing: boolean): void {
    this.state = missing ? "missing" : "present";
  }

  /** /dev/i2c-N exists but the user may not open it (not in the i2c group). */
  denyAccess(): void {
    this.state = "denied";
  }

  inject(fault: Fault, options: FaultOptions = {}): void {
    this.faults.push({
      fault,
      address: options.address ?? null,
      op: options.op ?? null,
      times: options.times ?? 1,
    });
  }

  clearFaults(): void {
    this.faults = [];
  }

  get stuckCount(): number {
    return this.stuck.length;
  }

  /** Settles every stuck transfer: with ETIMEDOUT ("error") or by letting it reach the board. */
  releaseStuck(outcome: "error" | "complete" = "error"): number {
    const waiting = this.stuck.splice(0);
    for (const release of waiting) release(outcome);
    return waiting.length;
  }

  writesTo(address: number): number[][] {
    return this.transfers
      .filter((transfer) => transfer.op === "write" && transfer.address === address)
      .map((transfer) => transfer.bytes);
  }

  readonly opener: I2cBusOpener = async (busNumber) => {
    this.opens++;
    let closed = false;
    const guard = () => {
      if (closed) this.afterClose++;
    };
    const handle: I2cBus = {
      i2cWrite: async (address, length, buffer) => {
        guard();
        const bytesWritten = await this.transfer("write", busNumber, address, length, buffer);
        return { bytesWritten, buffer };
      },
      i2cRead: async (address, length, buffer) => {
        guard();
        const bytesRead = await this.transfer("read", busNumber, address, length, buffer);
        return { bytesRead, buffer };
      },
      close: async () => {
        closed = true;
        this.closes++;
      },
    };
    return handle;
  };

  private async transfer(
    op: "read" | "write",
    busNumber: number,
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<number> {
    if (this.inFlight > 0) this.overlaps++;
    this.inFlight++;
    try {
      await new Promise(setImmediate);
      return await this.perform(op, busNumber, address, length, buffer);
    } finally {
      this.inFlight--;
    }
  }

  private perform(
    op: "read" | "write",
    busNumber: number,
    address: number,
    length: number,
    buffer: Buffer,
  ): number | Promise<number> {
    const record: TransferRecord = { op, address, bytes: [], result: "ok", at: performance.now() };
    if (op === "write") record.bytes = [...buffer.subarray(0, length)];
    this.transfers.push(record);
    const fail = (code: string, syscall: string = op, path?: string) => {
      record.result = code;
      return errnoError(code, syscall, path);
    };
    if (busNumber !== this.busNumber || this.state === "missing") {
      throw fail("ENOENT", "open", `/dev/i2c-${busNumber}`);
    }
    if (this.state === "denied") throw fail("EACCES", "open", `/dev/i2c-${busNumber}`);
    const fault = this.takeFault(address, op);
    if (fault !== null) {
      switch (fault.kind) {
        case "nack":
          throw fail(fault.errno ?? "EREMOTEIO");
        case "eio":
          throw fail("EIO");
        case "etimedout":
          throw fail("ETIMEDOUT");
        case "errno":
          throw fail(fault.code);
        case "stuck":
          record.result = "stuck";
          return new Promise<number>((resolve, reject) => {
            this.stuck.push((outcome) => {
              if (outcome === "error") reject(fail("ETIMEDOUT"));
              else resolve(this.deliver(record, op, address, length, buffer));
            });
          });
        case "garbage":
          record.result = "garbage";
          for (let index = 0; index < length; index++) buffer[index] = fault.bytes[index] ?? 0xff;
          record.bytes = [...buffer.subarray(0, length)];
          return length;
        case "short": {
          record.result = "short";
          const full = this.boards.get(address)?.read(length) ?? [];
          for (let index = 0; index < fault.bytesRead; index++) buffer[index] = full[index] ?? 0xff;
          record.bytes = full.slice(0, fault.bytesRead);
          return fault.bytesRead;
        }
      }
    }
    return this.deliver(record, op, address, length, buffer);
  }

  private deliver(
    record: TransferRecord,
    op: "read" | "write",
    address: number,
    length: number,
    buffer: Buffer,
  ): number {
    const board = this.boards.get(address);
    if (board === undefined || this.unplugged.has(address)) {
      // Nobody acknowledges the address byte: the Pi's bcm2835 driver reports EREMOTEIO.
      record.result = "EREMOTEIO";
      throw errnoError("EREMOTEIO", op);
    }
    if (op === "write") {
      board.write([...buffer.subarray(0, length)]);
      return length;
    }
    const reply = board.read(length);
    for (let index = 0; index < length; index++) buffer[index] = reply[index] ?? 0xff;
    record.bytes = [...buffer.subarray(0, length)];
    return length;
  }

  private takeFault(address: number, op: "read" | "write"): Fault | null {
    const index = this.faults.findIndex(
      (pending) =>
        (pending.address === null || pending.address === address) &&
        (pending.op === null || pending.op === op),
    );
    const pending = this.faults[index];
    if (pending === undefined) return null;
    pending.times--;
    if (pending.times <= 0) this.faults.splice(index, 1);
    return pending.fault;
  }
}

/**
 * What an AVR (ATmega168) slave puts on the bus for a read of `length` bytes:
 * its reply, then 0xFF once it stops driving SDA. With no reply prepared the
 * Arduino TWI driver sends a single 0x00 (twi.c, TW_ST_SLA_ACK).
 */
export function avrSlaveTransmit(reply: number[], length: number): number[] {
  const data = reply.length === 0 ? [0x00] : reply;
  return Array.from({ length }, (_, index) => data[index] ?? 0xff);
}

/** Big-endian 16-bit, masked like a uint16_t. */
export function wordBytes(value: number): number[] {
  return [(value >> 8) & 0xff, value & 0xff];
}
