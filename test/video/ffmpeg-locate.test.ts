// locateFfmpeg: the order config → FFMPEG_PATH → FFMPEG_BIN → ffmpeg-static → PATH, and the
// errors, with injected env, file checks and package loader (nothing on disk is consulted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FfmpegNotFoundError, locateFfmpeg, type LocateOptions } from '../../agent/ffmpeg/locate';

const notInstalled = (): unknown => {
  throw Object.assign(new Error("Cannot find module 'ffmpeg-static'"), { code: 'MODULE_NOT_FOUND' });
};

function opts(files: string[], extra: Partial<LocateOptions> = {}): LocateOptions {
  const set = new Set(files);
  return { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, exists: (p) => set.has(p), requireStatic: notInstalled, cwd: '/srv/camgate', ...extra };
}

describe('locateFfmpeg', () => {
  const all = ['/opt/ff/ffmpeg', '/env/ffmpeg', '/bin-env/ffmpeg', '/static/ffmpeg', '/usr/bin/ffmpeg'];

  it('takes the config path first', () => {
    const r = locateFfmpeg(
      opts(all, { configPath: '/opt/ff/ffmpeg', env: { FFMPEG_PATH: '/env/ffmpeg', PATH: '/usr/bin' }, requireStatic: () => '/static/ffmpeg' }),
    );
    assert.equal(r.path, '/opt/ff/ffmpeg');
    assert.equal(r.source, 'config');
    assert.equal(r.via, 'video.ffmpegPath');
  });

  it('then FFMPEG_PATH, then FFMPEG_BIN (ffmpeg-static’s variable)', () => {
    const both = locateFfmpeg(
      opts(all, { env: { FFMPEG_PATH: '/env/ffmpeg', FFMPEG_BIN: '/bin-env/ffmpeg', PATH: '/usr/bin' }, requireStatic: () => '/static/ffmpeg' }),
    );
    assert.deepEqual([both.path, both.source, both.via], ['/env/ffmpeg', 'env', 'FFMPEG_PATH']);
    const bin = locateFfmpeg(opts(all, { env: { FFMPEG_BIN: '/bin-env/ffmpeg', PATH: '/usr/bin' }, requireStatic: () => '/static/ffmpeg' }));
    assert.deepEqual([bin.path, bin.source, bin.via], ['/bin-env/ffmpeg', 'env', 'FFMPEG_BIN']);
    const blank = locateFfmpeg(opts(all, { env: { FFMPEG_PATH: '  ', PATH: '/usr/bin' } }));
    assert.equal(blank.source, 'path', 'an empty variable counts as unset');
  });

  it('then the ffmpeg-static package, when it loads and its binary exists', () => {
    const r = locateFfmpeg(opts(all, { requireStatic: () => '/static/ffmpeg' }));
    assert.deepEqual([r.path, r.source], ['/static/ffmpeg', 'ffmpeg-static']);
    const esm = locateFfmpeg(opts(all, { requireStatic: () => ({ default: '/static/ffmpeg' }) }));
    assert.equal(esm.source, 'ffmpeg-static');
  });

  it('falls through a missing ffmpeg-static (MODULE_NOT_FOUND), a missing binary and a null path to PATH, saying why', () => {
    const absent = locateFfmpeg(opts(all));
    assert.deepEqual([absent.path, absent.source, absent.via], ['/usr/bin/ffmpeg', 'path', 'PATH (/usr/bin)']);
    assert.match(absent.notes.join(';'), /ffmpeg-static: not installed/);
    const noBinary = locateFfmpeg(opts(['/usr/bin/ffmpeg'], { requireStatic: () => '/node_modules/ffmpeg-static/ffmpeg' }));
    assert.equal(noBinary.source, 'path');
    assert.match(noBinary.notes.join(';'), /binary \/node_modules\/ffmpeg-static\/ffmpeg is missing/);
    const nullPath = locateFfmpeg(opts(['/usr/bin/ffmpeg'], { requireStatic: () => null }));
    assert.match(nullPath.notes.join(';'), /no binary for this platform/);
    const broken = locateFfmpeg(
      opts(['/usr/bin/ffmpeg'], {
        requireStatic: () => {
          throw new Error('boom');
        },
      }),
    );
    assert.match(broken.notes.join(';'), /cannot load \(boom\)/);
  });

  it('searches PATH directories in order', () => {
    const r = locateFfmpeg(opts(['/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg']));
    assert.equal(r.path, '/usr/local/bin/ffmpeg');
  });

  it('a configured path that does not exist is an error naming the key and the fix (no fall-through)', () => {
    assert.throws(
      () => locateFfmpeg(opts(all, { configPath: '/opt/missing/ffmpeg' })),
      (err: Error) =>
        err instanceof FfmpegNotFoundError && /video\.ffmpegPath = "\/opt\/missing\/ffmpeg": no such executable file; fix the path/.test(err.message),
    );
    assert.throws(
      () => locateFfmpeg(opts(all, { env: { FFMPEG_PATH: '/nope', PATH: '/usr/bin' } })),
      /FFMPEG_PATH = "\/nope": no such executable file; fix or unset the environment variable FFMPEG_PATH/,
    );
    assert.throws(() => locateFfmpeg(opts(all, { env: { FFMPEG_BIN: '/nope', PATH: '/usr/bin' } })), /FFMPEG_BIN = "\/nope"/);
  });

  it('resolves a relative configured path against the working directory, and a bare name on PATH', () => {
    assert.equal(locateFfmpeg(opts(['/srv/camgate/bin/ffmpeg'], { configPath: 'bin/ffmpeg' })).path, '/srv/camgate/bin/ffmpeg');
    assert.equal(locateFfmpeg(opts(['/usr/bin/ffmpeg5'], { configPath: 'ffmpeg5' })).path, '/usr/bin/ffmpeg5');
    assert.throws(() => locateFfmpeg(opts([], { configPath: 'ffmpeg5' })), /video\.ffmpegPath = "ffmpeg5": no executable of that name on PATH/);
  });

  it('nothing anywhere: an error listing what was tried and how to install', () => {
    assert.throws(
      () => locateFfmpeg(opts([])),
      (err: Error) =>
        err instanceof FfmpegNotFoundError &&
        /ffmpeg-static: not installed/.test(err.message) &&
        /PATH: no ffmpeg/.test(err.message) &&
        /apt-get install ffmpeg/.test(err.message) &&
        /video\.ffmpegPath/.test(err.message),
    );
  });

  it('with the real file system: finds this machine’s ffmpeg (ffmpeg-static is absent here)', () => {
    const r = locateFfmpeg({ env: { PATH: process.env.PATH } });
    assert.ok(['ffmpeg-static', 'path'].includes(r.source));
    assert.ok(r.path.startsWith('/'));
  });
});
