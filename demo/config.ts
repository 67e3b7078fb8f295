/** The demo Pi's group: its config names it, and the banner's fleet-threshold hint sets its rules. */
export const DEMO_GROUP = "demo";

/** What the demo's sensord.toml is made from. */
export interface DemoSettings {
  ingestUrl: string;
  mqttUrl: string;
  spikeEvery: string;
  /** `[http] listen`: "" turns sensord's /metrics off. */
  httpListen: string;
}

/**
 * The demo's sensord config: the simulated sensor with spikes past the
 * default thresholds, uploads every 5 s (readings to /ingest, alert events to
 * the default alerts endpoint /ingest/alerts), alerts relayed over MQTT. Relative
 * paths resolve against the file's folder (var/demo/).
 */
export function demoConfig(settings: DemoSettings): string {
  return `# Written by the demo (npm start) at every start: edit demo/config.ts instead.
[device]
id = "demo-pi"
group = ${JSON.stringify(DEMO_GROUP)}
gps = "37.5665, 126.9780"

[storage]
path = "sensord.db"
flush_interval = "1s"

[[sensors]]
id = "gas0"
driver = "sim"
interval = "1s"
spike_every = ${JSON.stringify(settings.spikeEvery)}

[sync]
endpoint = ${JSON.stringify(`${settings.ingestUrl}/ingest`)}
interval = "5s"

[mqtt]
url = ${JSON.stringify(settings.mqttUrl)}
topic = "pi/1"

[control]
socket = "sensord.sock"

[http]
listen = ${JSON.stringify(settings.httpListen)}
`;
}
