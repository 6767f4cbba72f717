// The identity provider the single sign-on tests sign in at: panva's oidc-provider (OpenID
// Certified), configured here, not imitated. Its one page of our own is the login prompt,
// where a test says who signs in (subject, email, whether the email is verified, whether a
// second factor was used, which becomes the `amr` claim): as an organisation's directory would.
//
//   node provider.mjs <port> '<clients as JSON>'
//
// Prints "ready <issuer>" once it listens.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const clients = JSON.parse(process.argv[3]);
const issuer = `http://127.0.0.1:${port}`;

// The people who have signed in, by subject: their claims as the login prompt gave them.
const people = new Map();

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  // amr with the openid scope: Entra ID and others send it in every ID token.
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sign out</title></head><body><main><h1>Sign out of the test organisation?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout" id="sign-out">Yes, sign me out</button>
</main></body></html>`;
      },
    },
  },
  cookies: { keys: ['prevent-assure-test-identity-provider'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const person = people.get(id);
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...person }; } };
  },
  // Our service is the organisation's own registered application: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});

const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const loginPage = (uid, hint) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test organisation sign-in</title></head><body><main>
<h1>Test organisation sign-in</h1>
<form method="post" action="/interaction/${escape(uid)}">
<p><label for="subject">Subject</label> <input id="subject" name="subject" required></p>
<p><label for="email">Email</label> <input id="email" name="email" value="${escape(hint)}"></p>
<p><input type="checkbox" id="verified" name="verified" value="yes" checked> <label for="verified">Email verified</label></p>
<p><input type="checkbox" id="mfa" name="mfa" value="yes"> <label for="mfa">Second factor used</label></p>
<p><button type="submit" id="sign-in">Sign in</button></p>
</form></main></body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([^/?]+)/.exec(req.url);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(loginPage(details.uid, details.params.login_hint));
    }
    const form = await readForm(req);
    const subject = form.get('subject');
    people.set(subject, { email: form.get('email'), email_verified: form.get('verified') === 'yes' });
    const amr = form.get('mfa') === 'yes' ? ['pwd', 'otp', 'mfa'] : ['pwd'];
    return provider.interactionFinished(req, res, { login: { accountId: subject, amr } }, {
      mergeWithLastSubmission: false,
    });
  } catch (e) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    return res.end(`interaction failed: ${e.message}`);
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
process.on('SIGTERM', () => process.exit(0));
// Gone when the test that started it is: it reads its stdin until the test's end closes it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
