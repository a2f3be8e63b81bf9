import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactText, redactUrl, SecretScrubber, stripUrlCredentials } from '../../lib/redact';
import { createLogger } from '../../lib/log';
import { PLANTED } from '../kit/secrets';

test('URLs lose user:password@ and password-like parameters', () => {
  assert.equal(redactUrl('rtsp://admin:pw@10.0.0.5:554/Streaming/Channels/101'), 'rtsp://***@10.0.0.5:554/Streaming/Channels/101');
  assert.equal(redactUrl('http://10.0.0.5/snap.jpg?user=admin&pwd=secret&x=1'), 'http://10.0.0.5/snap.jpg?user=admin&pwd=***&x=1');
  assert.equal(
    redactUrl('rtsp://10.0.0.5:554/user=admin&password=secret&channel=1&stream=0.sdp'),
    'rtsp://10.0.0.5:554/user=admin&password=***&channel=1&stream=0.sdp',
  );
  assert.equal(redactUrl('rtsp://10.0.0.5/live'), 'rtsp://10.0.0.5/live');
  assert.equal(stripUrlCredentials('rtsp://admin:pw@10.0.0.5/live'), 'rtsp://10.0.0.5/live');
  assert.equal(redactText('failed: GET http://u:p@h/x and rtsp://a:b@c/d'), 'failed: GET http://***@h/x and rtsp://***@c/d');
});

test('the scrubber erases known secrets, also JSON-escaped and URL-encoded', () => {
  const tricky = 'p"a\\ss w/rd';
  const s = new SecretScrubber().add(PLANTED, tricky, 'ab');
  assert.equal(s.scrub(`x ${PLANTED} y`), 'x *** y');
  assert.equal(s.scrub(JSON.stringify({ m: tricky })), '{"m":"***"}');
  assert.equal(s.scrub(`u=${encodeURIComponent(tricky)}`), 'u=***');
  assert.equal(s.scrub('ab stays: too short to scrub without garbling logs'), 'ab stays: too short to scrub without garbling logs');
});

test('logger: JSON lines, redact paths, scrubbed messages and errors, level respected', () => {
  const lines: string[] = [];
  const scrubber = new SecretScrubber().add(PLANTED);
  const log = createLogger({ level: 'info', scrubber, destination: { write: (l: string) => lines.push(l) } });
  log.info({ camera: { host: '10.0.0.5', password: 'structured-secret' }, credentials: { username: 'u', password: 'x' } }, 'connecting');
  log.warn(`login with ${PLANTED} failed`);
  log.error({ err: new Error(`GET rtsp://admin:${PLANTED}@10.0.0.5/ failed`) }, 'boom');
  log.debug({ password: PLANTED }, 'not written at info');
  const text = lines.join('');
  assert.equal(lines.length, 3);
  for (const l of lines) JSON.parse(l);
  assert.ok(!text.includes(PLANTED));
  assert.ok(!text.includes('structured-secret'));
  assert.match(text, /"password":"\[redacted\]"/);
  assert.match(text, /"credentials":"\[redacted\]"/);
  assert.match(text, /rtsp:\/\/\*\*\*@10\.0\.0\.5/);
  assert.match(lines[0], /"msg":"connecting"/);
});
