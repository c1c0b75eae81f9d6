// Interop: panva's openid-client (discovery + client_credentials grant,
// introspection, revocation) and jose (remote JWKS verification), unchanged,
// against a running lakegate. Usage: node node_interop.mjs ISSUER CLIENT_ID SECRET
import './webcrypto_globals.mjs';  // first: Node.js 18 (Debian 12) lacks the Web Crypto globals
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

const [issuer, clientId, clientSecret] = process.argv.slice(2);
const insecure = { execute: [client.allowInsecureRequests] };  // loopback http only

for (const algorithm of ['oidc', 'oauth2']) {
  for (const [name, auth] of [['basic', client.ClientSecretBasic(clientSecret)],
                              ['post', client.ClientSecretPost(clientSecret)]]) {
    const config = await client.discovery(new URL(issuer), clientId, undefined, auth,
                                          { ...insecure, algorithm });
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, issuer);

    const tokens = await client.clientCredentialsGrant(config, { scope: 'athena-api/query.read' });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'athena-api/query.read');
    assert.ok(tokens.expires_in > 0);

    const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer, audience: 'athena-api', typ: 'at+jwt', algorithms: ['ES256', 'EdDSA', 'RS256'],
    });
    assert.equal(payload.client_id, clientId);
    assert.equal(payload.sub, clientId);
    assert.equal(payload.token_use, 'access');
    assert.equal(protectedHeader.kid, decodeProtectedHeader(tokens.access_token).kid);

    const info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, clientId);
    await client.tokenRevocation(config, tokens.access_token);
    const after = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(after.active, false);

    // A wrong secret is a 401 with a Basic challenge (RFC 6749 §5.2), which
    // openid-client surfaces as a WWW-Authenticate challenge error.
    const bad = await client.discovery(new URL(issuer), clientId, undefined,
                                       client.ClientSecretBasic('wrong'), { ...insecure, algorithm });
    await assert.rejects(client.clientCredentialsGrant(bad, {}), (e) =>
      e.status === 401 && (e.error === 'invalid_client' ||
        (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && e.cause[0].scheme === 'basic')));
    console.log(`ok ${algorithm} ${name}`);
  }
}
console.log('node interop: all passed');
