// Interop: panva's openid-client authenticates with private_key_jwt (RFC 7523)
// against a running lakegate, unchanged: discovery, the client_credentials
// grant with its own client assertions, introspection and revocation.
// Usage: node node_private_key_jwt.mjs ISSUER KEY_FILE
//   KEY_FILE is {"client_id","kid","private_key_pem"} as `lakegate demo` writes
//   it for keyjwt-service.
import './webcrypto_globals.mjs';  // first: Node.js 18 (Debian 12) lacks the Web Crypto globals
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { importPKCS8, decodeJwt } from 'jose';

const [issuer, keyFile] = process.argv.slice(2);
const { client_id: clientId, kid, private_key_pem: pem } = JSON.parse(readFileSync(keyFile, 'utf8'));
const insecure = { execute: [client.allowInsecureRequests] };  // loopback http only
const key = await importPKCS8(pem, 'ES256');

for (const algorithm of ['oidc', 'oauth2']) {
  const config = await client.discovery(new URL(issuer), clientId, undefined,
                                        client.PrivateKeyJwt({ key, kid }), { ...insecure, algorithm });
  const meta = config.serverMetadata();
  assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(meta.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));

  // Two grants in a row: every assertion carries a fresh jti.
  for (let i = 0; i < 2; ++i) {
    const tokens = await client.clientCredentialsGrant(config, {});
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'athena-api/query.read');
    assert.equal(decodeJwt(tokens.access_token).client_id, clientId);
    const info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    await client.tokenRevocation(config, tokens.access_token);
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
  }

  // Another key under the registered kid: invalid_client.
  const { privateKey: other } = await crypto.subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const bad = await client.discovery(new URL(issuer), clientId, undefined,
                                     client.PrivateKeyJwt({ key: other, kid }), { ...insecure, algorithm });
  await assert.rejects(client.clientCredentialsGrant(bad, {}), (e) =>
    e.status === 401 && (e.error === 'invalid_client' ||
      (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && e.cause[0].scheme === 'basic')));
  console.log(`ok ${algorithm} private_key_jwt`);
}
console.log('node private_key_jwt interop: all passed');
