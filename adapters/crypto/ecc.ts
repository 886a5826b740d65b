/**
 * Elliptic-curve encryption and signatures (due's `crypto/ecc`), on `node:crypto`.
 *
 * **Encryption** is ECIES as implemented by go-ethereum's `crypto/ecies` (which due uses), rebuilt step by step
 * from that code with OpenSSL primitives; it is meant to be byte-compatible with due, but has not been checked
 * against Go output here (no Go toolchain on the development machines), only against an independent WebCrypto
 * decoder in the tests. For a recipient key on curve C with parameters (P-256: AES-128, SHA-256, k = 16;
 * P-384: AES-192, SHA-384, k = 24):
 *
 * 1. make an ephemeral key pair (r, R) on C; z = x-coordinate of r·Q (ECDH), big-endian, field size bytes;
 * 2. K = concatKDF(z, s1, 2k) = H(00000001 ‖ z ‖ s1) ‖ H(00000002 ‖ z ‖ s1) ‖ … truncated to 2k bytes
 *    (NIST SP 800-56 concatenation KDF); Ke = K[0, k), Km = H(K[k, 2k));
 * 3. iv = 16 random bytes; em = iv ‖ AES-CTR(Ke, iv, message);
 * 4. d = HMAC-H(Km, em ‖ s2);
 * 5. ciphertext = R (uncompressed point 04 ‖ X ‖ Y) ‖ em ‖ d.
 *
 * P-521 is refused: go-ethereum's parameters for it (32-byte keys from a 66-byte secret) do not work.
 * An empty message is refused, as go-ethereum does.
 *
 * **Signatures** are ECDSA over H(data), encoded as due does by default: r and s as decimal text joined by a
 * delimiter (`"<r> <s>"`); `format: "der"` or `"p1363"` (r ‖ s, fixed size) give the usual binary forms.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import { bytesOf, type HashName, hashOf, loadKeys } from "./_key.ts";
import type { Encryptor, Signer } from "./types.ts";

export type { HashName } from "./_key.ts";

/** Default signature hash, as due's. */
export const DEFAULT_ECC_HASH: HashName = "SHA256";
/** Default delimiter between r and s in due's signature text, as due's. */
export const DEFAULT_ECC_DELIMITER = " ";

interface CurveParams {
  /** JWK curve name. */
  crv: string;
  /** Field size in bytes. */
  bytes: number;
  /** AES-CTR cipher name. */
  cipher: string;
  /** Symmetric key length k. */
  keyLen: number;
  /** Hash for the KDF and the MAC. */
  hash: string;
  hashBytes: number;
}

/** go-ethereum's `paramsFromCurve`, by OpenSSL curve name. */
const CURVES: Record<string, CurveParams> = {
  prime256v1: { crv: "P-256", bytes: 32, cipher: "aes-128-ctr", keyLen: 16, hash: "sha256", hashBytes: 32 },
  secp384r1: { crv: "P-384", bytes: 48, cipher: "aes-192-ctr", keyLen: 24, hash: "sha384", hashBytes: 48 },
};
const AES_BLOCK = 16;

function curveOf(key: KeyObject, what: string): { name: string; params: CurveParams } {
  const name = key.asymmetricKeyDetails?.namedCurve ?? "";
  const params = CURVES[name];
  if (!params) {
    throw new TypeError(
      `Cannot create ${what} as the key's curve must be P-256 or P-384: current value is "${name}"`,
    );
  }
  return { name, params };
}

/** NIST SP 800-56 concatenation KDF, as go-ethereum's `concatKDF`. */
function concatKdf(hash: string, z: Uint8Array, s1: Uint8Array, length: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (let counter = 1; total < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter, 0);
    const block = createHash(hash).update(c).update(z).update(s1).digest();
    parts.push(block);
    total += block.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

function deriveKeys(p: CurveParams, z: Uint8Array, s1: Uint8Array): { ke: Buffer; km: Buffer } {
  const k = concatKdf(p.hash, z, s1, 2 * p.keyLen);
  return { ke: k.subarray(0, p.keyLen), km: createHash(p.hash).update(k.subarray(p.keyLen)).digest() };
}

function tag(p: CurveParams, km: Uint8Array, em: Uint8Array, s2: Uint8Array): Buffer {
  return createHmac(p.hash, km).update(em).update(s2).digest();
}

/** The uncompressed point 04 ‖ X ‖ Y of a public key. */
function pointOf(key: KeyObject, p: CurveParams): Buffer {
  const jwk = key.export({ format: "jwk" });
  const x = Buffer.from(jwk.x!, "base64url");
  const y = Buffer.from(jwk.y!, "base64url");
  const out = Buffer.alloc(1 + 2 * p.bytes);
  out[0] = 4;
  x.copy(out, 1 + p.bytes - x.length);
  y.copy(out, 1 + 2 * p.bytes - y.length);
  return out;
}

/** Options of {@linkcode createEccEncryptor}: due's `crypto.ecc.encryptor` / `decryptor` keys. */
export interface EccEncryptorOptions {
  /** Recipient public key (PEM text or a file path); derived from `privateKey` when absent. */
  publicKey?: string;
  /** Private key (PEM text or a file path); needed to decrypt. */
  privateKey?: string;
  /** Shared information fed into the KDF. @default empty */
  s1?: string | Uint8Array;
  /** Shared information fed into the MAC. @default empty */
  s2?: string | Uint8Array;
}

/**
 * Creates an ECIES encryptor/decryptor (P-256 or P-384 keys).
 *
 * @example
 * ```ts ignore
 * import { createEccEncryptor } from "./ecc.ts";
 * const ecc = createEccEncryptor({ privateKey: "./pem/key.pem" });
 * const sealed = ecc.encrypt(new TextEncoder().encode("hello"));
 * console.log(new TextDecoder().decode(ecc.decrypt(sealed)));
 * ```
 */
export function createEccEncryptor(options: EccEncryptorOptions): Encryptor {
  const { publicKey, privateKey, s1, s2 } = options;
  const what = "ecc encryptor";
  const keys = loadKeys(publicKey, privateKey, what, "ec");
  const { name: curve, params: p } = curveOf(keys.publicKey, what);
  const shared1 = bytesOf(s1);
  const shared2 = bytesOf(s2);
  const rLen = 1 + 2 * p.bytes;

  function encrypt(data: Uint8Array): Uint8Array {
    if (data.length === 0) throw new RangeError(`Cannot encrypt with ${what} as the message is empty`);
    const ephemeral = generateKeyPairSync("ec", { namedCurve: curve });
    const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: keys.publicKey });
    const { ke, km } = deriveKeys(p, z, shared1);
    const iv = randomBytes(AES_BLOCK);
    const cipher = createCipheriv(p.cipher, ke, iv);
    const em = Buffer.concat([iv, cipher.update(data), cipher.final()]);
    return new Uint8Array(Buffer.concat([pointOf(ephemeral.publicKey, p), em, tag(p, km, em, shared2)]));
  }

  function decrypt(data: Uint8Array): Uint8Array {
    if (!keys.privateKey) throw new TypeError(`Cannot decrypt with ${what} as no 'privateKey' was given`);
    if (data.length < rLen + p.hashBytes + AES_BLOCK || data[0] !== 4) {
      throw new Error(`Cannot decrypt with ${what}: the message is malformed`);
    }
    let ephemeral: KeyObject;
    try {
      const b64 = (from: number) => Buffer.from(data.subarray(from, from + p.bytes)).toString("base64url");
      ephemeral = createPublicKey({
        key: { kty: "EC", crv: p.crv, x: b64(1), y: b64(1 + p.bytes) },
        format: "jwk",
      });
    } catch (err) {
      throw new Error(`Cannot decrypt with ${what}: the ephemeral public key is invalid`, { cause: err });
    }
    const z = diffieHellman({ privateKey: keys.privateKey, publicKey: ephemeral });
    const { ke, km } = deriveKeys(p, z, shared1);
    const em = data.subarray(rLen, data.length - p.hashBytes);
    const d = data.subarray(data.length - p.hashBytes);
    if (!timingSafeEqual(tag(p, km, em, shared2), d)) {
      throw new Error(
        `Cannot decrypt with ${what}: the message does not match the key or shared information`,
      );
    }
    const decipher = createDecipheriv(p.cipher, ke, em.subarray(0, AES_BLOCK));
    return new Uint8Array(Buffer.concat([decipher.update(em.subarray(AES_BLOCK)), decipher.final()]));
  }

  return { name: "ecc", encrypt, decrypt } satisfies Encryptor;
}

/** Options of {@linkcode createEccSigner}: due's `crypto.ecc.signer` / `verifier` keys. */
export interface EccSignerOptions {
  /** Private key (PEM text or a file path); needed to sign. */
  privateKey?: string;
  /** Public key (PEM text or a file path); derived from `privateKey` when absent. */
  publicKey?: string;
  /** Hash of the signed data. @default "SHA256" */
  hash?: HashName;
  /** Delimiter between r and s in the `due` format. @default " " */
  delimiter?: string;
  /** `due` (decimal "r<delimiter>s", as due), `der` (ASN.1) or `p1363` (r ‖ s). @default "due" */
  format?: "due" | "der" | "p1363";
}

const DECIMAL_REGEXP = /^[0-9]+$/;

/**
 * Creates an ECDSA signer/verifier (P-256 or P-384 keys).
 *
 * @example
 * ```ts ignore
 * import { createEccSigner } from "./ecc.ts";
 * const signer = createEccSigner({ privateKey: "./pem/key.pem" });
 * const data = new TextEncoder().encode("hello");
 * console.assert(signer.verify(data, signer.sign(data)));
 * ```
 */
export function createEccSigner(options: EccSignerOptions): Signer {
  const { publicKey, privateKey, hash = DEFAULT_ECC_HASH, delimiter = DEFAULT_ECC_DELIMITER } = options;
  const { format = "due" } = options;
  const what = "ecc signer";
  if (format !== "due" && format !== "der" && format !== "p1363") {
    throw new TypeError(
      `Cannot create ${what} as 'format' must be due, der or p1363: current value is "${format}"`,
    );
  }
  if (typeof delimiter !== "string" || delimiter === "" || /[0-9]/.test(delimiter)) {
    throw new TypeError(
      `Cannot create ${what} as 'delimiter' must be a non-empty string without digits: current value is "${delimiter}"`,
    );
  }
  const digest = hashOf(hash, what);
  const keys = loadKeys(publicKey, privateKey, what, "ec");
  const { params: p } = curveOf(keys.publicKey, what);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const dsaEncoding = format === "der" ? "der" : "ieee-p1363";

  function signData(data: Uint8Array): Uint8Array {
    if (!keys.privateKey) throw new TypeError(`Cannot sign with ${what} as no 'privateKey' was given`);
    const raw = sign(digest.node, data, { key: keys.privateKey, dsaEncoding });
    if (format !== "due") return new Uint8Array(raw);
    const r = BigInt(`0x${raw.subarray(0, p.bytes).toString("hex")}`);
    const s = BigInt(`0x${raw.subarray(p.bytes).toString("hex")}`);
    return encoder.encode(`${r}${delimiter}${s}`);
  }

  /** due's "r<delimiter>s" decimal text as r ‖ s, or undefined when malformed. */
  function fromDueText(signature: Uint8Array): Buffer | undefined {
    const text = decoder.decode(signature);
    const at = text.indexOf(delimiter);
    if (at < 0) return undefined;
    const [r, s] = [text.slice(0, at), text.slice(at + delimiter.length)];
    if (!DECIMAL_REGEXP.test(r) || !DECIMAL_REGEXP.test(s)) return undefined;
    const hex = (n: string) => BigInt(n).toString(16).padStart(2 * p.bytes, "0");
    const [rh, sh] = [hex(r), hex(s)];
    if (rh.length > 2 * p.bytes || sh.length > 2 * p.bytes) return undefined;
    return Buffer.from(rh + sh, "hex");
  }

  function verifyData(data: Uint8Array, signature: Uint8Array): boolean {
    const raw = format === "due" ? fromDueText(signature) : signature;
    if (!raw) return false;
    try {
      return verify(digest.node, data, { key: keys.publicKey, dsaEncoding }, raw);
    } catch {
      return false;
    }
  }

  return { name: "ecc", sign: signData, verify: verifyData } satisfies Signer;
}
