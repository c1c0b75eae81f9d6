// Interop: panva's openid-client uses DPoP (RFC 9449) against a running
// lakegate, unchanged: discovery (dpop_signing_alg_values_supported), a
// DPoP-bound client_credentials token per algorithm, a query through its
// protected-resource request (Authorization: DPoP + a proof with ath), and
// introspection of the binding. The same token sent as a Bearer token is
// refused with a DPoP challenge.
// Usage: node node_dpop.mjs ISSUER CLIENT_ID SECRET
import './webcrypto_globals.mjs';  // first: Node.js 18 (Debian 12) lacks the Web Crypto globals
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';

const [issuer, clientId, clientSecret] = process.argv.slice(2);
const insecure = { execute: [client.allowInsecureRequests] };  // loopback http only
const config = await client.discovery(new URL(issuer), clientId, undefined,
                                      client.ClientSecretBasic(clientSecret), insecure);
assert.deepEqual(config.serverMetadata().dpop_signing_alg_values_supported,
                 ['ES256', 'EdDSA', 'RS256', 'PS256']);
const url = new URL(issuer + '/v1/query');
const body = JSON.stringify({ query: 'SELECT count(*) AS n FROM analytics.members' });

for (const alg of ['ES256', 'PS256', 'RS256']) {
  const keyPair = await client.randomDPoPKeyPair(alg);
  const DPoP = client.getDPoPHandle(config, keyPair);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'athena-api/query.read' },
                                                     { DPoP });
  assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
  assert.equal(decodeJwt(tokens.access_token).cnf.jkt, jkt);

  for (let i = 0; i < 2; ++i) {  // a fresh proof each time
    const response = await client.fetchProtectedResource(
        config, tokens.access_token, url, 'POST', body,
        new Headers({ 'content-type': 'application/json' }), { DPoP });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal(JSON.parse(text).success, true);
  }

  const bearer = await fetch(url, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.access_token}` },
  });
  assert.equal(bearer.status, 401);
  assert.match(bearer.headers.get('www-authenticate'), /DPoP realm="[^"]*", error="invalid_token"/);

  const info = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.token_type, 'DPoP');
  assert.equal(info.cnf.jkt, jkt);
  console.log(`ok ${alg} DPoP`);
}
console.log('node DPoP interop: all passed');
