// The central serving its dashboard: the built page at / with its security headers (a CSP without
// inline script, never framed), hashed assets cached for a year and the page never, nothing else
// of the disk reachable; the session's CSRF token required on every change a session makes (a
// cross-site form post refused, the dashboard's header accepted, API tokens exempt); the map's
// settings and the operator's region outlines, and a bad outlines file stopping the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { startTestCentral } from '../kit/central';
import { cookieFrom } from '../kit/api';
import { tempDir } from '../kit/temp';
import { dashboardCsp, mediaOrigins, tileOrigin } from '../../central/web/headers';

const NO_BROKER = 'mqtt://127.0.0.1:9';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly these headers and body (no JSON client in between). */
function raw(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the dashboard at /: CSP without inline script, not framable, assets cached by hash, index not cached, nothing else served', async (t) => {
  const central = await startTestCentral(t, {
    brokerUrl: NO_BROKER,
    deps: { ingest: false },
    env: { CAMGATE_CENTRAL_MAP_TILE_URL: 'https://{s}.tiles.county.lan/{z}/{x}/{y}.png' },
  });
  const page = await raw(`${central.url}/`, 'GET');
  assert.equal(page.status, 200, page.body);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  const csp = String(page.headers['content-security-policy']);
  const directives = new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
  assert.deepEqual(directives.get('script-src'), ["'self'"], csp);
  assert.deepEqual(directives.get('style-src'), ["'self'"], csp);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], csp);
  assert.deepEqual(directives.get('default-src'), ["'none'"], csp);
  assert.ok(directives.get('img-src')?.includes('https://*.tiles.county.lan'), `the tile server's images are allowed: ${csp}`);
  assert.ok(!csp.includes('unsafe-eval'), csp);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');

  // Every script is a file of this server: no inline script for the CSP to refuse.
  const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.ok(scripts.length > 0, page.body);
  for (const [, attrs, inner] of scripts) {
    assert.match(attrs, /src="\/assets\/[\w-]+\.js"/, `script from assets/: ${attrs}`);
    assert.equal(inner.trim(), '', 'no inline code');
  }
  const asset = /src="(\/assets\/[\w-]+\.js)"/.exec(page.body)![1];
  const js = await raw(`${central.url}${asset}`, 'GET');
  assert.equal(js.status, 200);
  assert.match(String(js.headers['content-type']), /javascript/);
  assert.match(String(js.headers['cache-control']), /max-age=31536000/);
  assert.match(String(js.headers['cache-control']), /immutable/);

  for (const path of ['/assets/../../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/package.json', '/assets/nothing-here.js']) {
    const res = await raw(`${central.url}${path}`, 'GET');
    assert.ok(res.status === 404 || res.status === 403, `${path}: ${res.status}`);
    assert.doesNotMatch(res.body, /"name": "camgate"/, `${path} must not reach the disk outside the build`);
  }
  const unknownApi = await raw(`${central.url}/api/nothing`, 'GET');
  assert.equal(unknownApi.status, 404);
  assert.match(JSON.parse(unknownApi.body).message, /no such endpoint: GET \/api\/nothing/);
  assert.equal(unknownApi.headers['x-content-type-options'], 'nosniff', 'API answers carry the common headers too');
});

test('CSRF: a session change needs the X-CSRF-Token header (a cross-site form post is refused); the dashboard sends it; tokens need none', async (t) => {
  const central = await startTestCentral(t, { brokerUrl: NO_BROKER, deps: { ingest: false } });
  const login = await raw(
    `${central.url}/api/login`,
    'POST',
    { 'content-type': 'application/json' },
    JSON.stringify({ username: central.admin!.username, password: central.admin!.password }),
  );
  assert.equal(login.status, 200);
  const setCookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
  const csrfLine = setCookie.find((c) => c.startsWith('camgate_csrf='));
  assert.ok(csrfLine, setCookie.join('\n'));
  assert.match(csrfLine, /; Path=\/;/);
  assert.match(csrfLine, /SameSite=Strict/);
  assert.doesNotMatch(csrfLine, /HttpOnly/, 'the page must read it');
  const session = cookieFrom(login.headers['set-cookie'], 'camgate_session')!;
  const token = cookieFrom(login.headers['set-cookie'], 'camgate_csrf')!.split('=')[1];
  const cookies = `${session}; camgate_csrf=${token}`;

  // What a form on another page sends, had the browser attached the cookies.
  const form = await raw(
    `${central.url}/api/tokens`,
    'POST',
    { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
    'name=stolen&role=admin',
  );
  assert.equal(form.status, 403, form.body);
  assert.match(JSON.parse(form.body).message, /x-csrf-token header/);
  const noHeader = await raw(`${central.url}/api/tokens`, 'POST', { cookie: cookies, 'content-type': 'application/json' }, JSON.stringify({ name: 'a' }));
  assert.equal(noHeader.status, 403);
  const wrong = await raw(
    `${central.url}/api/tokens`,
    'POST',
    { cookie: cookies, 'content-type': 'application/json', 'x-csrf-token': `${token.slice(0, -1)}x` },
    JSON.stringify({ name: 'a' }),
  );
  assert.equal(wrong.status, 403, 'a token that is not this session’s');
  const logoutWithout = await raw(`${central.url}/api/logout`, 'POST', { cookie: cookies });
  assert.equal(logoutWithout.status, 403, 'logging someone out is a change too');
  assert.equal((await raw(`${central.url}/api/me`, 'GET', { cookie: cookies })).status, 200, 'reads need no token, and the session lives on');
  assert.equal((await raw(`${central.url}/api/tokens`, 'GET', { cookie: cookies })).status, 200);

  const made = await raw(
    `${central.url}/api/tokens`,
    'POST',
    { cookie: cookies, 'content-type': 'application/json', 'x-csrf-token': token },
    JSON.stringify({ name: 'county-platform' }),
  );
  assert.equal(made.status, 201, made.body);
  const secret = JSON.parse(made.body).secret as string;
  // A token passes the guard without the header: the answer is the route's own (no such alarm).
  const byToken = await raw(
    `${central.url}/api/alarms/no-such-alarm/ack`,
    'POST',
    { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    JSON.stringify({ note: 'on it' }),
  );
  assert.equal(byToken.status, 404, `an API token needs no CSRF header: ${byToken.body}`);
  assert.equal(JSON.parse(byToken.body).error, 'not-found');

  const out = await raw(`${central.url}/api/logout`, 'POST', { cookie: cookies, 'x-csrf-token': token });
  assert.equal(out.status, 204);
  assert.ok(
    ([] as string[]).concat(out.headers['set-cookie'] ?? []).some((c) => /^camgate_csrf=;/.test(c)),
    'the logout clears the token cookie',
  );
  assert.equal((await raw(`${central.url}/api/me`, 'GET', { cookie: cookies })).status, 401);
});

test('map settings and region outlines from the config; a bad outlines file stops the start naming the key', async (t) => {
  const dir = tempDir(t, 'camgate-map-');
  const outlines = join(dir, 'regions.geojson');
  const collection = {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: { name: '余杭区' },
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [119.9, 30.3],
              [120.1, 30.3],
              [120.1, 30.5],
              [119.9, 30.3],
            ],
          ],
        },
      },
    ],
  };
  writeFileSync(outlines, JSON.stringify(collection));
  const central = await startTestCentral(t, {
    brokerUrl: NO_BROKER,
    deps: { ingest: false },
    env: { CAMGATE_CENTRAL_MAP_COORDINATE_SYSTEM: 'gcj02', CAMGATE_CENTRAL_MAP_REGIONS_GEO_JSON: outlines, CAMGATE_CENTRAL_MAP_ATTRIBUTION: '© 县测绘' },
  });
  const settings = await central.get('/api/map');
  assert.deepEqual(settings.body, { tileUrl: '', coordinateSystem: 'gcj02', attribution: '© 县测绘', outlines: true });
  const served = await raw(`${central.url}/api/map/outlines`, 'GET', { cookie: central.as!.options.cookie! });
  assert.equal(served.status, 200);
  assert.match(String(served.headers['content-type']), /^application\/geo\+json/);
  assert.deepEqual(JSON.parse(served.body), collection);
  assert.equal((await central.client().get('/api/map')).status, 401, 'settings are for logged-in users');

  const plain = await startTestCentral(t, { brokerUrl: NO_BROKER, deps: { ingest: false } });
  const none = await plain.get<{ message: string }>('/api/map/outlines');
  assert.equal(none.status, 404);
  assert.match(none.body.message, /set map\.regionsGeoJson/);

  const points = join(dir, 'points.geojson');
  writeFileSync(points, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [120, 30] } }] }));
  for (const [file, message] of [
    [points, /map\.regionsGeoJson: .*points\.geojson: feature 0 is not a Polygon or MultiPolygon/],
    [join(dir, 'missing.geojson'), /map\.regionsGeoJson: cannot read .*missing\.geojson/],
  ] as const) {
    await assert.rejects(
      startTestCentral(t, { brokerUrl: NO_BROKER, deps: { ingest: false }, env: { CAMGATE_CENTRAL_MAP_REGIONS_GEO_JSON: file } }),
      (err: Error) => message.test(err.message),
    );
  }
});

test('the tile server in the CSP: its origin only, {s} as a wildcard label, nothing for a template the policy cannot name', () => {
  assert.equal(tileOrigin('http://tiles.county.lan/{z}/{x}/{y}.png'), 'http://tiles.county.lan');
  assert.equal(tileOrigin('HTTPS://{s}.tiles.lan:8443/t/{z}/{x}/{y}.png?key=1'), 'https://*.tiles.lan:8443');
  assert.equal(tileOrigin('/tiles/{z}/{x}/{y}.png'), undefined, 'relative: the page origin, already allowed');
  assert.equal(tileOrigin('http://{z}.tiles.lan/{x}/{y}.png'), undefined, 'a placeholder other than {s} in the host');
  assert.equal(tileOrigin("http://a.lan;script-src 'unsafe-inline'/{z}"), undefined, 'no way to smuggle a directive in');
  assert.equal(tileOrigin(''), undefined);
  assert.match(dashboardCsp(''), /img-src 'self' data: blob:;/);
  assert.match(dashboardCsp('http://tiles.county.lan/{z}/{x}/{y}.png'), /img-src 'self' data: blob: http:\/\/tiles\.county\.lan;/);
});

test('the media servers in the CSP: the origins of their play URLs in connect-src and media-src, nothing else, never *', () => {
  const servers: Array<{ play: Record<string, string> }> = [
    { play: { hls: 'http://media.county:8080/hls/{key}.m3u8', rtmp: 'rtmp://media.county:1935/live/{key}' } },
    { play: { flv: 'HTTP://10.20.0.9:8080/live/{key}.flv', hls: 'http://media.county:8080/x/{key}.m3u8', 'ws-flv': 'wss://zlm.lan/live/{key}.live.flv' } },
    { play: { webrtc: 'webrtc://srs.lan/live/{key}' } },
  ];
  assert.deepEqual(mediaOrigins(servers), {
    fetch: ['http://media.county:8080', 'http://10.20.0.9:8080', 'wss://zlm.lan'],
    media: ['http://media.county:8080', 'http://10.20.0.9:8080'],
  });
  const csp = dashboardCsp('', servers);
  assert.match(csp, /connect-src 'self' http:\/\/media\.county:8080 http:\/\/10\.20\.0\.9:8080 wss:\/\/zlm\.lan;/);
  assert.match(csp, /media-src 'self' blob: http:\/\/media\.county:8080 http:\/\/10\.20\.0\.9:8080;/);
  assert.doesNotMatch(csp, /\*|rtmp|webrtc/);
  assert.match(dashboardCsp(''), /connect-src 'self'; media-src 'self' blob:;/, 'no media server: the page origin only');
  assert.deepEqual(mediaOrigins([{ play: { hls: "http://m.lan;script-src 'unsafe-inline'/{key}" } }]), { fetch: [], media: [] }, 'no directive smuggled in');
});
