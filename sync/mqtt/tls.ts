import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { describeError, ERROR_CODES, SensordError } from "../../core/errors.js";
import type { MqttConfig } from "../../schemas/config-types.js";

/** A TLS or credential file is missing, unreadable or wrong; `key` is the config key naming it. */
export class MqttFileError extends SensordError {
  constructor(
    readonly key: string,
    readonly file: string,
    message: string,
  ) {
    super(ERROR_CODES.mqtt.file, `mqtt.${key}: ${message}`);
  }
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  password?: string;
  /** Not fatal, but the operator should act (a key readable by others). */
  warnings: string[];
}

/**
 * Reads and checks the files `[mqtt]` names, at each connection attempt, so
 * fixing a file is enough (no restart). Problems a TLS handshake would only
 * report vaguely (expired certificate, a key that is not the certificate's)
 * are caught here with the file's name.
 */
export function readTlsMaterial(config: MqttConfig, now: number = Date.now()): TlsMaterial {
  const material: TlsMaterial = { warnings: [] };
  if (config.caFile !== null) {
    const ca = readFile(
      "ca_file",
      config.caFile,
      "the CA certificate (PEM) that signed the broker's",
    );
    checkValidity("ca_file", config.caFile, parseCertificate("ca_file", config.caFile, ca), now);
    material.ca = ca;
  }
  if (config.certFile !== null && config.keyFile !== null) {
    const cert = readFile("cert_file", config.certFile, "the device certificate (PEM)");
    const certificate = parseCertificate("cert_file", config.certFile, cert);
    checkValidity("cert_file", config.certFile, certificate, now);
    const key = readFile("key_file", config.keyFile, "the device's private key (PEM)");
    const privateKey = parseKey(config.keyFile, key);
    if (!certificate.checkPrivateKey(privateKey)) {
      throw new MqttFileError(
        "key_file",
        config.keyFile,
        `${config.keyFile} is not the private key of ${config.certFile}; use the key the certificate was issued for`,
      );
    }
    const warning = exposedWarning("key_file", config.keyFile);
    if (warning !== null) material.warnings.push(warning);
    material.cert = cert;
    material.key = key;
  }
  if (config.passwordFile !== null) {
    const password = readFile("password_file", config.passwordFile, "the password").toString(
      "utf8",
    );
    material.password = password.replace(/\r?\n$/, "");
    const warning = exposedWarning("password_file", config.passwordFile);
    if (warning !== null) material.warnings.push(warning);
  }
  return material;
}

function readFile(key: string, path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "";
    const reason =
      code === "ENOENT"
        ? `${path} does not exist; put ${what} there or fix the path`
        : code === "EACCES" || code === "EPERM"
          ? `cannot read ${path}: permission denied; make it readable by the user sensord runs as (chmod 600, owned by that user)`
          : `cannot read ${path} (${describeError(error)})`;
    throw new MqttFileError(key, path, reason);
  }
}

function parseCertificate(key: string, path: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new MqttFileError(
      key,
      path,
      `${path} is not a PEM certificate (${describeError(error)}); it should start with -----BEGIN CERTIFICATE-----`,
    );
  }
}

function parseKey(path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    const text = describeError(error);
    const hint = /passphrase|encrypted/i.test(text)
      ? "it is encrypted; sensord needs an unencrypted key (openssl pkey -in key.pem -out plain.pem)"
      : "it should start with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)";
    throw new MqttFileError(
      "key_file",
      path,
      `${path} is not a usable private key (${text}); ${hint}`,
    );
  }
}

function checkValidity(key: string, path: string, certificate: X509Certificate, now: number): void {
  const notAfter = Date.parse(certificate.validTo);
  const notBefore = Date.parse(certificate.validFrom);
  if (Number.isFinite(notAfter) && notAfter < now) {
    throw new MqttFileError(
      key,
      path,
      `the certificate in ${path} expired on ${new Date(notAfter).toISOString()}; install a renewed one`,
    );
  }
  if (Number.isFinite(notBefore) && notBefore > now) {
    throw new MqttFileError(
      key,
      path,
      `the certificate in ${path} is not valid before ${new Date(notBefore).toISOString()}; check the Pi's clock (NTP)`,
    );
  }
}

function exposedWarning(key: string, path: string): string | null {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  return `mqtt.${key}: ${path} is readable by group or others (mode ${mode.toString(8).padStart(3, "0")}); run chmod 600 ${path}`;
}
