// node-oidc-provider as the peer in the benchmark (bench/run.sh starts it; it is not part of the
// server). Configured the way a user would set it up for machine-to-machine tokens:
// client_credentials, JWT access tokens (RFC 9068) through the resource indicators feature with a
// default resource, signed with a freshly generated RS256 or ES256 key, and introspection on.
//
// node-oidc-provider does not introspect JWT access tokens (its introspection endpoint rejects
// structured tokens), so the introspection figure uses an opaque access token, issued to a second
// client that has no default resource. That is the best case for it: the token is a lookup in the
// default in-memory adapter, not a database.
//
// Environment: PORT (required), ALG (RS256 or ES256; default ES256), CLIENT_ID, CLIENT_SECRET.
// One process (Node runs JavaScript on one thread), production mode, no request logging.

import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
if (!port) {
  console.error('PORT is required');
  process.exit(2);
}
const alg = process.env.ALG || 'ES256';
if (!['RS256', 'ES256'].includes(alg)) {
  console.error('ALG must be RS256 or ES256');
  process.exit(2);
}
const clientId = process.env.CLIENT_ID || 'bench';
const clientSecret = process.env.CLIENT_SECRET || 'bench-secret-bench-secret-bench-secret';
const resource = 'urn:bench:api';
const scope = 'api.read api.write';

function signingKey() {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `bench-${alg}` };
}

const machineClient = (id) => ({
  client_id: id,
  client_secret: clientSecret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope,
});

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [machineClient(clientId), machineClient(`${clientId}-opaque`)],
  jwks: { keys: [signingKey()] },
  // The only key is of `alg`: clients must default to it (the provider checks at registration).
  clientDefaults: { id_token_signed_response_alg: alg },
  cookies: { keys: ['bench-cookie-key-bench-cookie-key'] },
  scopes: ['openid', 'offline_access', 'api.read', 'api.write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // The JWT client always gets a token for the API; the "-opaque" client gets none, so its
      // access tokens are opaque (and introspectable).
      defaultResource: (ctx, client, oneOf) => (client.clientId === clientId ? resource : oneOf),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator, client) => {
        if (resourceIndicator !== resource) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope,
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 3600,
  },
});
provider.proxy = false;

// Errors are answered to the client; don't pay for logging each of them.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider listening on 127.0.0.1:${port} (${alg})`);
});
