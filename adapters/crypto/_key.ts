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

const KEY_KINDS = {
  privateKey: { create: createPrivateKey, noun: "private key" },
  publicKey: { create: createPublicKey, noun: "public key" },
} as const;

/** A private key from PEM (PKCS#1, PKCS#8 or SEC1) or a public key (SPKI or PKCS#1), inline or in a file. */
function loadKey(option: keyof typeof KEY_KINDS, key: string, what: string): KeyObject {
  const text = pemText(key, option, what);
  const { create, noun } = KEY_KINDS[option];
  try {
    return create(text);
  } catch (err) {
    throw new TypeError(`Cannot create ${what} as '${option}' is not a valid ${noun}`, { cause: err });
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
  const priv = privateKey === undefined ? undefined : loadKey("privateKey", privateKey, what);
  const pub = publicKey === undefined ? createPublicKey(priv!) : loadKey("publicKey", publicKey, what);
  for (const key of [pub, priv]) {
    if (key && key.asymmetricKeyType !== type) {
      throw new TypeError(
        `Cannot create ${what} as the key is of type "${key.asymmetricKeyType}", not "${type}"`,
      );
    }
  }
  return { publicKey: pub, privateKey: priv };
}

/** The size of an RSA key's modulus, in bytes: the length of each ciphertext block and signature. */
export function modulusBytes(key: KeyObject): number {
  return Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8);
}

/** Bytes from a string (UTF-8) or bytes. */
export function bytesOf(value: string | Uint8Array | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}
