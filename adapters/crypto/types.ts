/**
 * Payload encryption and signatures (due's `crypto`): an {@linkcode Encryptor} turns bytes into ciphertext and
 * back, a {@linkcode Signer} signs bytes and checks signatures. Backends: RSA (`rsa.ts`) and elliptic curves
 * (`ecc.ts`), both on `node:crypto` (OpenSSL), no hand-written arithmetic.
 *
 * @module
 */

/** Encrypts and decrypts byte payloads. */
export interface Encryptor {
  /** The algorithm name ("rsa", "ecc"), as due's `Name()`. */
  readonly name: string;
  /** Encrypts `data`. @throws {TypeError} when no public (or private) key was given */
  encrypt(data: Uint8Array): Uint8Array;
  /** Decrypts what {@linkcode Encryptor.encrypt} produced. @throws {Error} when the data or key does not match */
  decrypt(data: Uint8Array): Uint8Array;
}

/** Signs byte payloads and verifies signatures. */
export interface Signer {
  /** The algorithm name ("rsa", "ecc"), as due's `Name()`. */
  readonly name: string;
  /** Signs `data`. @throws {TypeError} when no private key was given */
  sign(data: Uint8Array): Uint8Array;
  /** Whether `signature` is a valid signature of `data`; `false` (never a throw) for a malformed signature. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}
