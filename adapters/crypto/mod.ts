/**
 * Encryptors and signers by driver name (due's `crypto.rsa` / `crypto.ecc`), loaded on first use.
 *
 * | driver | encryptor | signer |
 * |---|---|---|
 * | `rsa` | `createRsaEncryptor` (PKCS#1 v1.5 or OAEP, block chunking) | `createRsaSigner` (PKCS#1 v1.5 or PSS) |
 * | `ecc` | `createEccEncryptor` (go-ethereum ECIES) | `createEccSigner` (ECDSA, due's text form) |
 *
 * @example
 * ```ts ignore
 * import { createEncryptor } from "./mod.ts";
 * const encryptor = await createEncryptor("rsa", { privateKey: "./pem/key.pem" });
 * ```
 *
 * @module
 */
import type { EccEncryptorOptions, EccSignerOptions } from "./ecc.ts";
import type { RsaEncryptorOptions, RsaSignerOptions } from "./rsa.ts";
import type { Encryptor, Signer } from "./types.ts";

export type { Encryptor, Signer } from "./types.ts";
export type { EccEncryptorOptions, EccSignerOptions, RsaEncryptorOptions, RsaSignerOptions };

/** The options of each driver. */
export interface CryptoDriverOptions {
  rsa: { encryptor: RsaEncryptorOptions; signer: RsaSignerOptions };
  ecc: { encryptor: EccEncryptorOptions; signer: EccSignerOptions };
}

/** A driver name of the `crypto` config section. */
export type CryptoDriver = keyof CryptoDriverOptions;

/** Loaders of each driver's factories. */
export const CRYPTO_DRIVERS: {
  [D in CryptoDriver]: () => Promise<{
    encryptor: (options: CryptoDriverOptions[D]["encryptor"]) => Encryptor;
    signer: (options: CryptoDriverOptions[D]["signer"]) => Signer;
  }>;
} = {
  rsa: () => import("./rsa.ts").then((m) => ({ encryptor: m.createRsaEncryptor, signer: m.createRsaSigner })),
  ecc: () => import("./ecc.ts").then((m) => ({ encryptor: m.createEccEncryptor, signer: m.createEccSigner })),
};

function check(driver: string): void {
  if (!Object.hasOwn(CRYPTO_DRIVERS, driver)) {
    throw new TypeError(
      `Cannot create crypto component as 'driver' must be one of ${
        Object.keys(CRYPTO_DRIVERS).join("|")
      }: current value is "${driver}"`,
    );
  }
}

/** Loads `driver` and creates its encryptor. @throws {TypeError} for an unknown driver or bad options */
export async function createEncryptor<D extends CryptoDriver>(
  driver: D,
  options: CryptoDriverOptions[D]["encryptor"],
): Promise<Encryptor> {
  check(driver);
  return (await CRYPTO_DRIVERS[driver]()).encryptor(options);
}

/** Loads `driver` and creates its signer. @throws {TypeError} for an unknown driver or bad options */
export async function createSigner<D extends CryptoDriver>(
  driver: D,
  options: CryptoDriverOptions[D]["signer"],
): Promise<Signer> {
  check(driver);
  return (await CRYPTO_DRIVERS[driver]()).signer(options);
}
