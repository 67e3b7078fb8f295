import type { IClientOptions } from "mqtt";
import type { MqttConfig } from "../../schemas/config-types.js";
import type { TlsMaterial } from "./tls.js";

/** What every connection made with `[mqtt]` shares (the relay and `sensorctl watch`): credentials and TLS. */
export function authOptions(config: MqttConfig, material: TlsMaterial): IClientOptions {
  return {
    protocolVersion: 4,
    ...(config.username === null ? {} : { username: config.username }),
    ...(material.password === undefined ? {} : { password: material.password }),
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    ...(material.cert === undefined ? {} : { cert: material.cert }),
    ...(material.key === undefined ? {} : { key: material.key }),
    ...(config.alpn === null ? {} : { ALPNProtocols: [config.alpn] }),
    rejectUnauthorized: true,
  };
}
