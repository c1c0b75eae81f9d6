// jose and openid-client call the Web Crypto API through the globals `crypto`
// and `CryptoKey`, which Node.js has only since version 19. Debian 12 ships
// Node.js 18, where the same objects live in node:crypto's `webcrypto`; this
// module installs them as globals (and does nothing on newer Node.js).
//
// Why a shim rather than a newer Node.js: the install step takes everything
// from Debian's archive, so a new user's `bash .ci/run` needs no third-party
// apt repository or downloaded runtime, and the tests run on the Node.js that
// the user's system actually has. Import this module before any other.
import { webcrypto } from 'node:crypto';

if (typeof globalThis.crypto?.subtle !== 'object') {
  Object.defineProperty(globalThis, 'crypto', {
    value: webcrypto, writable: true, configurable: true, enumerable: false,
  });
}
if (typeof globalThis.CryptoKey !== 'function') {
  Object.defineProperty(globalThis, 'CryptoKey', {
    value: webcrypto.CryptoKey, writable: true, configurable: true, enumerable: false,
  });
}
