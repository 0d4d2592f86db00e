// A real OpenID Connect provider on loopback for the single sign-on tests: node's `oidc-provider` (a certified
// implementation), with its development login form (any password; the login names the account) and consent given
// for our client, so that a browser goes from our button to the form and straight back to our callback.
//
// node oidc_provider.mjs <node_modules> <port> <redirect_uri>
// Prints "listening <issuer>" once it answers. The accounts (login -> claims) are below.

import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [modules, port, redirectUri] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(join(modules, 'oidc-provider', 'lib', 'index.js')).href);

const ACCOUNTS = {
  alice: { email: 'alice@acme.test', email_verified: true, name: 'Alice Liddell', preferred_username: 'alice' },
  carol: { email: 'carol@acme.test', email_verified: true, name: 'Carol Local', preferred_username: 'carol' },
  unverified: { email: 'mallory@acme.test', email_verified: false, name: 'Mallory', preferred_username: 'mallory' },
  outsider: { email: 'olga@elsewhere.test', email_verified: true, name: 'Olga', preferred_username: 'olga' },
};

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'culvert',
    client_secret: 'culvert-test-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const claims = ACCOUNTS[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  // consent is implied for our (first-party) client: no "authorize" page
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
