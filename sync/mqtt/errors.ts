import { describeError } from "../../core/errors.js";
import type { MqttConfig } from "../../schemas/config-types.js";

export interface ConnectFailure {
  /** What went wrong and what to do, naming the file or key involved. */
  message: string;
  /** The broker (or its TLS layer) said no: retrying quickly cannot help. */
  rejected: boolean;
}

const WRONG_CA = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_SIGNATURE_FAILURE",
]);

/** Turns an mqtt.js / TLS / socket error into one actionable line. Pure. */
export function explainConnectError(error: unknown, config: MqttConfig): ConnectFailure {
  const code = errorCode(error);
  const text = describeError(error);
  const broker = brokerName(config.url);
  if (WRONG_CA.has(code)) {
    const fix =
      config.caFile === null
        ? "by any CA this system trusts; set mqtt.ca_file to the CA that issued it"
        : `by the CA in mqtt.ca_file (${config.caFile}); set ca_file to the CA that issued the broker's certificate`;
    return {
      message: `the certificate of ${broker} is not signed ${fix} (${code})`,
      rejected: true,
    };
  }
  if (code === "CERT_HAS_EXPIRED") {
    return { message: `the certificate of ${broker} has expired (${code})`, rejected: true };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return {
      message: `the certificate of ${broker} is not issued for that host name; use the host name it names in mqtt.url (${text})`,
      rejected: true,
    };
  }
  if (
    /CERTIFICATE_REQUIRED|PEER_DID_NOT_RETURN_A_CERTIFICATE/.test(code) ||
    (/HANDSHAKE_FAILURE/.test(code) && config.certFile === null)
  ) {
    return {
      message: `${broker} requires a client certificate; set mqtt.cert_file and mqtt.key_file (${code})`,
      rejected: true,
    };
  }
  if (/ALERT_CERTIFICATE_EXPIRED/.test(code)) {
    return {
      message: `${broker} says the client certificate in mqtt.cert_file (${config.certFile ?? "none"}) has expired; install a renewed one`,
      rejected: true,
    };
  }
  if (
    /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|HANDSHAKE_FAILURE|ACCESS_DENIED)/.test(
      code,
    )
  ) {
    return {
      message: `${broker} rejected the client certificate in mqtt.cert_file (${config.certFile ?? "none"}): it is not issued by a CA the broker trusts, or not registered there (${code})`,
      rejected: true,
    };
  }
  const reasonCode = reasonCodeOf(error);
  // MQTT 3.1.1 CONNACK 4/5, MQTT 5 0x86/0x87.
  if (reasonCode === 4 || reasonCode === 0x86) {
    return {
      message: `${broker} refused the username or password; check mqtt.username and mqtt.password_file (${text})`,
      rejected: true,
    };
  }
  if (reasonCode === 5 || reasonCode === 0x87) {
    return {
      message: `${broker} refused the connection as not authorized; check the credentials, and for AWS IoT the certificate's policy and that client_id (${config.clientId}) is allowed (${text})`,
      rejected: true,
    };
  }
  if (code === "ECONNREFUSED")
    return {
      message: `${broker} refused the connection (is the broker running?)`,
      rejected: false,
    };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return {
      message: `cannot resolve the host of ${broker} (${code}); check mqtt.url and DNS`,
      rejected: false,
    };
  }
  return { message: `${broker}: ${text}${code === "" ? "" : ` (${code})`}`, rejected: false };
}

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = error.code;
    if (typeof code === "string") return code;
  }
  return "";
}

function reasonCodeOf(error: unknown): number | null {
  if (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "number"
  ) {
    return error.code;
  }
  return null;
}

/** host:port of the URL, without credentials. */
export function brokerName(url: string): string {
  try {
    const parsed = new URL(url);
    return `broker ${parsed.host}`;
  } catch {
    return "the broker";
  }
}
