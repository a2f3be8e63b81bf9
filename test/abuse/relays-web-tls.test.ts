// The live page over TLS (web.tls.cert / web.tls.key) with a throw-away PKI made by the openssl
// CLI: only https and wss are spoken, the session cookie is Secure, a client that trusts the test
// CA gets the page and one that does not is refused, and headless Chromium, with the test CA as a
// trusted root in its own NSS database (not told to ignore certificate errors), loads the page,
// plays a camera through MSE over wss and holds the cookie as Secure, HttpOnly, SameSite=Strict.
// The same browser without the CA refuses the page: the trust is what makes it work. Loopback
// 127.91.3.0/24 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import net from 'node:net';
import { startChromium } from '../../scripts/peers/chromium';
import { makePki } from '../../scripts/peers/mosquitto';
import { liveRig } from '../web/helpers';
import { tempDir } from '../kit/temp';

// Browser-side code below runs in the page (page.evaluate); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;

const PASSWORD = 'tls-Pa55-91';
const CA_NAME = 'camgate relays-web test CA';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function getTls(
  url: string,
  options: { ca?: Buffer; authorization?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      url,
      { ...(options.ca ? { ca: options.ca } : {}), headers: options.authorization ? { authorization: options.authorization } : {}, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
  });
}

/** What a plain-http client gets from the TLS port: the first bytes of an answer, if any. */
function plainHttp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect({ host, port }, () => s.write(`GET /api/cameras HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => resolve(text));
    s.on('close', () => resolve(text));
  });
}

test('the page over TLS: https and wss only, the cookie Secure; Chromium trusting the test CA plays a camera; without the CA it refuses the page', async (t) => {
  const dir = tempDir(t, 'camgate-web-tls-');
  const pki = makePki(dir, CA_NAME, ['127.91.3.1']);
  const rig = await liveRig(t, '127.91.3', { password: PASSWORD, tls: { cert: pki.server.certFile, key: pki.server.keyFile } }, [{ host: '127.91.3.2' }]);
  const url = rig.server.url;
  assert.match(url, /^https:\/\/127\.91\.3\.1:\d+\/$/);

  // A client trusting the test CA only: the certificate chain checks out.
  assert.equal((await getTls(url, { ca: pki.ca })).status, 401);
  const page = await getTls(url, { ca: pki.ca, authorization: basic('admin', PASSWORD) });
  assert.equal(page.status, 200);
  const setCookie = String(page.headers['set-cookie'] ?? '');
  assert.match(setCookie, /^camgate_live=[A-Za-z0-9_-]{43}; .*HttpOnly; SameSite=Strict; .*Secure/);
  assert.match(String(page.headers['content-security-policy']), /connect-src 'self' wss:\/\/127\.91\.3\.1:\d+/);
  // No clear text: a client that does not trust the CA is refused, plain http gets no page.
  await assert.rejects(getTls(url, {}), /self[- ]signed|unable to (get|verify)/i);
  const plain = await plainHttp('127.91.3.1', rig.server.port);
  assert.doesNotMatch(plain, /^HTTP\/1\.1 (200|401)/, 'plain http gets no page and no login prompt');
  assert.ok(!plain.includes(PASSWORD));

  // Chromium with the test CA as a trusted root in its NSS database ($HOME/.pki/nssdb).
  const home = tempDir(t, 'camgate-chromium-home-');
  const nssdb = join(home, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password'], { stdio: 'pipe' });
  execFileSync('certutil', ['-A', '-d', `sql:${nssdb}`, '-n', CA_NAME, '-t', 'C,,', '-i', pki.caFile], { stdio: 'pipe' });
  const trusting = await startChromium({ env: { ...process.env, HOME: home } });
  t.after(() => trusting.close());
  const context = await trusting.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
  const tab = await context.newPage();
  const logs: string[] = [];
  tab.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  const camera = rig.ids['127.91.3.2'];
  const response = await tab.goto(`${url}?camera=${encodeURIComponent(camera)}&stream=sub`);
  assert.equal(response?.status(), 200);
  const security = await response.securityDetails();
  assert.equal(security?.issuer, CA_NAME, JSON.stringify(security));
  assert.match(String(security?.protocol), /TLS 1\.[23]/);
  try {
    await tab.waitForFunction(() => window.camgateLive?.framesShown > 10, undefined, { timeout: 60_000 });
  } catch (err) {
    assert.fail(`no frames over wss: ${(err as Error).message}; console: ${logs.join(' | ')}`);
  }
  const t1 = await tab.evaluate(() => document.getElementById('video').currentTime);
  await tab.waitForFunction((start) => document.getElementById('video').currentTime > start + 1, t1, { timeout: 30_000 });
  assert.equal(await tab.evaluate(() => window.camgateLive.mode), 'mse');
  const cookies = await context.cookies(url);
  const session = cookies.find((c) => c.name === 'camgate_live');
  assert.ok(session, JSON.stringify(cookies));
  assert.deepEqual({ secure: session.secure, httpOnly: session.httpOnly, sameSite: session.sameSite }, { secure: true, httpOnly: true, sameSite: 'Strict' });
  await context.close();

  // The same browser without the test CA: the certificate is not trusted, nothing is shown.
  const stranger = await startChromium({ env: { ...process.env, HOME: tempDir(t, 'camgate-chromium-empty-') } });
  t.after(() => stranger.close());
  const other = await (await stranger.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } })).newPage();
  await assert.rejects(other.goto(url), /ERR_CERT_AUTHORITY_INVALID/);
});
