/**
 * Private to `adapters/crypto/`: loading PEM keys given inline or as file paths, and due's hash names.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";

/** Hash names as due's config writes them. */
export type HashName = "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512";

const HASHES: Record<HashName, { node: string; bytes: number }> = {
  SHA1: { node: "sha1", bytes: 20 },
  SHA224: { node: "sha224", bytes: 28 },
  SHA256: { node: "sha256", bytes: 32 },
  SHA384: { node: "sha384", bytes: 48 },
  SHA512: { node: "sha512", bytes: 64 },
};

/** The `node:crypto` name and digest size of a hash, checked. */
export function hashOf(hash: string, what: string): { node: string; bytes: number } {
  const found = HASHES[hash.toUpperCase() as HashName];
  if (!found) {
    throw new TypeError(
      `Cannot create ${what} as 'hash' must be one of ${
        Object.keys(HASHES).join("|")
      }: current value is "${hash}"`,
    );
  }
  return found;
}

/** PEM text: the value itself when it holds a PEM block, else the content of the file it names. */
function pemText(key: string, option: string, what: string): string {
  if (typeof key !== "string" || key === "") {
    throw new TypeError(
      `Cannot create ${what} as '${option}' must be a PEM string or a file path: current value is ${key}`,
    );
  }
  if (key.includes("-----BEGIN")) return key;
  try {
    return Deno.readTextFileSync(key);
  } catch (err) {
    throw new TypeError(
      `Cannot create ${what} as '${option}' is neither a PEM key nor a readable file: current value is "${key}"`,
      { cause: err },
    );
  }
}

/** A private key from PEM (PKCS#1, PKCS#8 or SEC1) or a PEM file. */
export function loadPrivateKey(key: string, what: string): KeyObject {
  try {
    return createPrivateKey(pemText(key, "privateKey", what));
  } catch (err) {
    if (err instanceof TypeError && err.message.startsWith("Cannot create")) throw err;
    throw new TypeError(`Cannot create ${what} as 'privateKey' is not a valid private key`, { cause: err });
  }
}

/** A public key from PEM (SPKI or PKCS#1) or a PEM file. */
export function loadPublicKey(key: string, what: string): KeyObject {
  try {
    return createPublicKey(pemText(key, "publicKey", what));
  } catch (err) {
    if (err instanceof TypeError && err.message.startsWith("Cannot create")) throw err;
    throw new TypeError(`Cannot create ${what} as 'publicKey' is not a valid public key`, { cause: err });
  }
}

/** The keys of a component: the public key is derived from the private one when only that is given. */
export function loadKeys(
  publicKey: string | undefined,
  privateKey: string | undefined,
  what: string,
  type: "rsa" | "ec",
): { publicKey: KeyObject; privateKey: KeyObject | undefined } {
  if (publicKey === undefined && privateKey === undefined) {
    throw new TypeError(`Cannot create ${what} as neither 'publicKey' nor 'privateKey' is given`);
  }
  const priv = privateKey === undefined ? undefined : loadPrivateKey(privateKey, what);
  const pub = publicKey === undefined ? createPublicKey(priv!) : loadPublicKey(publicKey, what);
  for (const key of [pub, priv]) {
    if (key && key.asymmetricKeyType !== type) {
      throw new TypeError(
        `Cannot create ${what} as the key is of type "${key.asymmetricKeyType}", not "${type}"`,
      );
    }
  }
  return { publicKey: pub, privateKey: priv };
}

/** Bytes from a string (UTF-8) or bytes. */
export function bytesOf(value: string | Uint8Array | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}
