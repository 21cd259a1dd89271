// A real OpenID Connect provider for Portal's sign-in tests (oidc-provider from npm). Started by the tests.
//   OIDC_PORT        port on 127.0.0.1 (0: any free one; the ready line names it)
//   OIDC_ISSUER      issuer URL (the tests put a pass-through proxy in front and use its URL)
//   OIDC_KEYS_FILE   JSON array of private JWKs; the first signs (the tests rotate keys by restarting)
//   PORTAL_URL       the portal under test (redirect, post-logout and back-channel logout URIs)
// Dev login form: any login and password; the login becomes "sub". alice, bob, carol, dave have the claims below.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const PORT = Number(process.env.OIDC_PORT);
const ISSUER = process.env.OIDC_ISSUER || `http://127.0.0.1:${PORT}`;
const APP = process.env.PORTAL_URL;
const keys = JSON.parse(readFileSync(process.env.OIDC_KEYS_FILE, 'utf8'));

const ACCOUNTS = {
  alice: { name: 'Alice Admin', groups: ['portal-admins', 'staff'] },
  bob: { name: 'Bob Staff', groups: ['staff'] },
  carol: { name: 'Carol Compliance', groups: ['compliance'] },
  dave: { name: 'Dave Visitor', groups: ['visitors'] }, // no group maps to a portal role
};

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: 'portal',
    client_secret: 'portal-test-secret',
    redirect_uris: [`${APP}/signin-oidc`],
    post_logout_redirect_uris: [`${APP}/signout-callback-oidc`],
    backchannel_logout_uri: `${APP}/auth/backchannel-logout`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => true },
  jwks: { keys },
  cookies: { keys: ['portal-test-cookie-key-1'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
  conformIdTokenClaims: false, // the scopes' claims go into the id_token itself
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const a = ACCOUNTS[id] || { name: id, groups: [] };
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.test`, email_verified: true, name: a.name, preferred_username: id, groups: a.groups };
      },
    };
  },
  // The portal under test lives on loopback, which the provider's SSRF guard refuses for back-channel calls;
  // the guard comes in as options.dispatcher, so this test provider leaves it out.
  fetch: (url, options) => { delete options.dispatcher; return globalThis.fetch(url, options); },
  ttl: { AccessToken: 600, AuthorizationCode: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
});
provider.proxy = true;
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('backchannel.error', (ctx, err) => console.error('backchannel.error', err, err?.cause));
// The tests read the port from this line: a port picked by the kernel cannot be taken by someone else meanwhile.
const server = provider.listen(PORT, '127.0.0.1', () => console.log(`oidc-provider ready on ${ISSUER} (port ${server.address().port})`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
