import { createServer, type Server } from "node:net";

export interface DemoBroker {
  url: string;
  /** Called for every message a client publishes (not the broker's own $SYS ones). */
  onPublish(listener: (topic: string, payload: Buffer) => void): void;
  close(): Promise<void>;
}

/**
 * aedes is a development dependency, so a Pi's install does not carry a broker it
 * never runs: a checkout (`npm install`, then `npm start`) has it, an installed
 * package does not.
 */
export class BrokerMissingError extends Error {
  constructor(options: { cause: unknown }) {
    super(
      "the demo's MQTT broker needs the aedes package, a development dependency: " +
        "run the demo from a sensord checkout after `npm install`, or `npm install --no-save aedes`",
      options,
    );
    this.name = "BrokerMissingError";
  }
}

async function loadAedes(): Promise<typeof import("aedes")> {
  try {
    return await import("aedes");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "ERR_MODULE_NOT_FOUND") throw new BrokerMissingError({ cause: error });
    throw error;
  }
}

/** An embedded MQTT broker (aedes) on loopback, so the demo needs no Mosquitto install. */
export async function startBroker(port: number): Promise<DemoBroker> {
  const { Aedes } = await loadAedes();
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    onPublish(listener) {
      aedes.on("publish", (packet, client) => {
        if (client !== null && client !== undefined)
          listener(packet.topic, Buffer.from(packet.payload));
      });
    },
    close: async () => {
      // Connected clients (sensord) are gone by now; close() waits for them otherwise.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
