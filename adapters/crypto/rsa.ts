/**
 * RSA encryption and signatures (due's `crypto/rsa`), on `node:crypto`.
 *
 * Encryption follows due byte for byte in layout: the plaintext is cut into blocks of `blockSize` bytes
 * (default and maximum: key size − 11 for PKCS#1 v1.5, key size − 2 × hash size − 2 for OAEP), each block is
 * encrypted on its own, and the ciphertext is the concatenation of the key-size blocks. Decryption cuts the
 * ciphertext into key-size blocks. OAEP uses `hash` for both the digest and MGF1 and takes an optional label,
 * as Go's `rsa.EncryptOAEP`. Signatures hash the data with `hash`, then sign with PKCS#1 v1.5 or PSS (salt
 * length = hash size, as due).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { constants, privateDecrypt, publicEncrypt, sign, verify } from "node:crypto";
import { bytesOf, type HashName, hashOf, loadKeys, modulusBytes } from "./_key.ts";
import type { Encryptor, Signer } from "./types.ts";

export type { HashName } from "./_key.ts";

/** Default hash, as due's. */
export const DEFAULT_RSA_HASH: HashName = "SHA256";
/** Default encryption padding, as due's (`NORMAL` = PKCS#1 v1.5). */
export const DEFAULT_RSA_ENCRYPTION_PADDING = "NORMAL";
/** Default signature padding: due's `Sign` uses PSS for anything but `PKCS`. */
export const DEFAULT_RSA_SIGNATURE_PADDING = "PSS";

/** Options of {@linkcode createRsaEncryptor}: due's `crypto.rsa.encryptor` / `decryptor` keys. */
export interface RsaEncryptorOptions {
  /** Public key (PEM text or a file path); derived from `privateKey` when absent. */
  publicKey?: string;
  /** Private key (PEM text or a file path); needed to decrypt. */
  privateKey?: string;
  /** `NORMAL` (PKCS#1 v1.5) or `OAEP`. @default "NORMAL" */
  padding?: "NORMAL" | "OAEP";
  /** OAEP hash. @default "SHA256" */
  hash?: HashName;
  /** OAEP label. @default empty */
  label?: string | Uint8Array;
  /** Plaintext bytes per RSA block; 0 = the largest the key and padding allow. @default 0 */
  blockSize?: number;
}

/**
 * Creates an RSA encryptor/decryptor.
 *
 * @example
 * ```ts ignore
 * import { createRsaEncryptor } from "./rsa.ts";
 * const rsa = createRsaEncryptor({ privateKey: "./pem/key.pem", padding: "OAEP" });
 * const sealed = rsa.encrypt(new TextEncoder().encode("hello"));
 * console.log(new TextDecoder().decode(rsa.decrypt(sealed)));
 * ```
 */
export function createRsaEncryptor(options: RsaEncryptorOptions): Encryptor {
  const { publicKey, privateKey, padding = DEFAULT_RSA_ENCRYPTION_PADDING, hash = DEFAULT_RSA_HASH } =
    options;
  const { label, blockSize = 0 } = options;
  const what = "rsa encryptor";
  if (padding !== "NORMAL" && padding !== "OAEP") {
    throw new TypeError(
      `Cannot create ${what} as 'padding' must be NORMAL or OAEP: current value is "${padding}"`,
    );
  }
  const digest = hashOf(hash, what);
  const keys = loadKeys(publicKey, privateKey, what, "rsa");
  const keyBytes = modulusBytes(keys.publicKey);
  const maxBlock = padding === "OAEP" ? keyBytes - 2 * digest.bytes - 2 : keyBytes - 11;
  if (maxBlock < 1) {
    throw new RangeError(
      `Cannot create ${what} as a ${keyBytes * 8}-bit key is too small for ${padding} with ${hash}`,
    );
  }
  if (!Number.isInteger(blockSize) || blockSize < 0 || blockSize > maxBlock) {
    throw new RangeError(
      `Cannot create ${what} as 'blockSize' must be an integer in [0, ${maxBlock}]: current value is ${blockSize}`,
    );
  }
  const block = blockSize || maxBlock;
  const oaep = padding === "OAEP"
    ? { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: digest.node, oaepLabel: bytesOf(label) }
    : { padding: constants.RSA_PKCS1_PADDING };
  // The key options of every block, built once rather than per block.
  const sealing = { key: keys.publicKey, ...oaep };
  const opening = keys.privateKey && { key: keys.privateKey, ...oaep };

  function encrypt(data: Uint8Array): Uint8Array {
    const blocks = Math.ceil(data.length / block);
    const out = new Uint8Array(blocks * keyBytes);
    for (let i = 0; i < blocks; i++) {
      const chunk = data.subarray(i * block, Math.min((i + 1) * block, data.length));
      out.set(publicEncrypt(sealing, chunk), i * keyBytes);
    }
    return out;
  }

  function decrypt(data: Uint8Array): Uint8Array {
    if (!opening) throw new TypeError(`Cannot decrypt with ${what} as no 'privateKey' was given`);
    if (data.length % keyBytes !== 0) {
      throw new RangeError(
        `Cannot decrypt with ${what} as the data length must be a multiple of ${keyBytes}: current value is ${data.length}`,
      );
    }
    const parts: Buffer[] = [];
    for (let off = 0; off < data.length; off += keyBytes) {
      try {
        parts.push(privateDecrypt(opening, data.subarray(off, off + keyBytes)));
      } catch (err) {
        throw new Error(
          `Cannot decrypt with ${what}: block ${off / keyBytes} does not match the key or padding`,
          {
            cause: err,
          },
        );
      }
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  return { name: "rsa", encrypt, decrypt } satisfies Encryptor;
}

/** Options of {@linkcode createRsaSigner}: due's `crypto.rsa.signer` / `verifier` keys. */
export interface RsaSignerOptions {
  /** Private key (PEM text or a file path); needed to sign. */
  privateKey?: string;
  /** Public key (PEM text or a file path); derived from `privateKey` when absent. */
  publicKey?: string;
  /** `PKCS` (PKCS#1 v1.5) or `PSS`. @default "PSS" */
  padding?: "PKCS" | "PSS";
  /** Hash of the signed data. @default "SHA256" */
  hash?: HashName;
}

/**
 * Creates an RSA signer/verifier.
 *
 * @example
 * ```ts ignore
 * import { createRsaSigner } from "./rsa.ts";
 * const signer = createRsaSigner({ privateKey: "./pem/key.pem", padding: "PKCS" });
 * const data = new TextEncoder().encode("hello");
 * console.assert(signer.verify(data, signer.sign(data)));
 * ```
 */
export function createRsaSigner(options: RsaSignerOptions): Signer {
  const { publicKey, privateKey, padding = DEFAULT_RSA_SIGNATURE_PADDING, hash = DEFAULT_RSA_HASH } = options;
  const what = "rsa signer";
  if (padding !== "PKCS" && padding !== "PSS") {
    throw new TypeError(
      `Cannot create ${what} as 'padding' must be PKCS or PSS: current value is "${padding}"`,
    );
  }
  const digest = hashOf(hash, what);
  const keys = loadKeys(publicKey, privateKey, what, "rsa");
  const keyBytes = modulusBytes(keys.publicKey);
  if (padding === "PSS" && keyBytes < 2 * digest.bytes + 2) {
    throw new RangeError(
      `Cannot create ${what} as a ${keyBytes * 8}-bit key is too small for PSS with ${hash}`,
    );
  }
  const pss = padding === "PSS"
    ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { padding: constants.RSA_PKCS1_PADDING };
  const signing = keys.privateKey && { key: keys.privateKey, ...pss };
  const verifying = { key: keys.publicKey, ...pss };

  function signData(data: Uint8Array): Uint8Array {
    if (!signing) throw new TypeError(`Cannot sign with ${what} as no 'privateKey' was given`);
    return new Uint8Array(sign(digest.node, data, signing));
  }

  function verifyData(data: Uint8Array, signature: Uint8Array): boolean {
    try {
      return verify(digest.node, data, verifying, signature);
    } catch {
      return false;
    }
  }

  return { name: "rsa", sign: signData, verify: verifyData } satisfies Signer;
}
