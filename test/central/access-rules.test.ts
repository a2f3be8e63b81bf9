// The access rules without sockets: password hashing, the region scope, who may grant what, the
// login throttle on virtual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, passwordProblem, verifyPassword } from '../../central/auth/password';
import { grantRefusal, manageRefusal, type Principal } from '../../central/auth/roles';
import { LoginThrottle } from '../../central/auth/throttle';
import { generatePassword } from '../../central/auth/users';
import { regionWithin, scopeProblem, scopeWithin } from '../../central/ledger/scope';
import { FakeClock } from '../kit/clock';

test('a password hash never is nor contains the password; the salt makes two hashes differ; only the password verifies', async () => {
  const password = 'correct horse battery staple';
  const a = await hashPassword(password);
  const b = await hashPassword(password);
  for (const hash of [a, b]) {
    assert.ok(!hash.includes(password), 'the password is not in the hash');
    assert.ok(!hash.includes(Buffer.from(password).toString('base64').slice(0, 12)), 'nor its base64');
    assert.match(hash, /^scrypt\$15\$8\$1\$[\w+/=]+\$[\w+/=]+$/, 'the parameters are stored with it');
  }
  assert.notEqual(a, b);
  assert.equal(await verifyPassword(password, a), true);
  assert.equal(await verifyPassword(password + ' ', a), false);
  assert.equal(await verifyPassword(password, 'plain text'), false, 'a hash it cannot read matches nothing');
  assert.match(passwordProblem('short-one') ?? '', /at least 10 characters \(this one has 9\)/);
  assert.equal(passwordProblem('0123456789'), undefined);
  const generated = generatePassword();
  assert.equal(generated.length, 20);
  assert.notEqual(generated, generatePassword());
});

test('region scope: a prefix of whole parts; empty sees everything; malformed scopes are named', () => {
  assert.equal(regionWithin('浙江省/杭州市/余杭区/仓前街道', '浙江省/杭州市/余杭区'), true);
  assert.equal(regionWithin('浙江省/杭州市/余杭区', '浙江省/杭州市/余杭区'), true);
  assert.equal(regionWithin('浙江省/杭州市/余杭区东', '浙江省/杭州市/余杭区'), false, 'a longer name is not a part below');
  assert.equal(regionWithin(null, '浙江省'), false);
  assert.equal(regionWithin(null, ''), true);
  assert.equal(scopeWithin('浙江省/杭州市', ''), true);
  assert.equal(scopeWithin('', '浙江省'), false);
  assert.match(scopeProblem('浙江省//杭州市') ?? '', /empty parts/);
  assert.match(scopeProblem('/浙江省') ?? '', /does not start with '\/'/);
  assert.equal(scopeProblem('浙江省/杭州市/'), undefined, 'a trailing / is trimmed');
});

test('who may grant what: within one’s scope; a scoped admin makes admins only below it and leaves its peers alone', () => {
  const root: Principal = { username: 'root', role: 'admin', scope: '' };
  const county: Principal = { username: 'yuhang', role: 'admin', scope: '浙江省/杭州市/余杭区' };
  const viewer: Principal = { username: 'v', role: 'viewer', scope: '' };
  assert.equal(grantRefusal(root, { role: 'admin', scope: '' }), undefined);
  assert.equal(grantRefusal(county, { role: 'operator', scope: '浙江省/杭州市/余杭区' }), undefined);
  assert.equal(grantRefusal(county, { role: 'admin', scope: '浙江省/杭州市/余杭区/仓前街道' }), undefined);
  assert.match(grantRefusal(county, { role: 'viewer', scope: '浙江省/杭州市' })?.message ?? '', /wider than or outside your own/);
  assert.match(grantRefusal(county, { role: 'viewer', scope: '' })?.message ?? '', /everything/);
  assert.equal(grantRefusal(county, { role: 'admin', scope: '浙江省/杭州市/余杭区' })?.kind, 'forbidden', 'no peer admin');
  assert.equal(grantRefusal(viewer, { role: 'viewer', scope: '' })?.kind, 'forbidden');
  assert.equal(manageRefusal(county, { username: 'x', role: 'viewer', scope: '浙江省/杭州市/西湖区' })?.kind, 'not-found', 'outside: does not exist');
  assert.equal(manageRefusal(county, { username: 'peer', role: 'admin', scope: '浙江省/杭州市/余杭区' })?.kind, 'forbidden');
  assert.equal(manageRefusal(county, { username: 'town', role: 'admin', scope: '浙江省/杭州市/余杭区/仓前街道' }), undefined);
  assert.equal(manageRefusal(root, { username: 'peer', role: 'admin', scope: '' }), undefined);
});

test('login throttle: per address and per user name, backoff then lockout, on virtual time', async () => {
  const clock = new FakeClock();
  const throttle = new LoginThrottle({ freeFailures: 2, maxFailures: 4, lockoutSec: 600, clock });
  throttle.failed('alice', '127.0.0.2');
  assert.deepEqual(throttle.gate('alice', '127.0.0.2'), { open: true });
  throttle.failed('alice', '127.0.0.3');
  // Two wrong passwords for alice, from two addresses: alice waits, the addresses do not.
  const closed = throttle.gate('alice', '127.0.0.4');
  assert.equal(closed.open, false);
  assert.deepEqual(throttle.gate('bob', '127.0.0.2'), { open: true });
  await clock.advance(1000);
  assert.deepEqual(throttle.gate('alice', '127.0.0.4'), { open: true });
  throttle.failed('alice', '127.0.0.4');
  const locks = throttle.failed('alice', '127.0.0.5');
  assert.deepEqual(
    locks.map((l) => l.client),
    ['user:alice'],
    'the fourth wrong password for alice locks alice',
  );
  await clock.advance(599_000);
  assert.equal(throttle.gate('alice', '127.0.0.9').open, false);
  await clock.advance(1000);
  assert.deepEqual(throttle.gate('alice', '127.0.0.9'), { open: true });
});
