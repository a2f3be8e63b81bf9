// camgate doctor: is this box ready for video? Which ffmpeg is used and where it was found
// (config / env / ffmpeg-static / PATH), its version, the capabilities camgate needs that it
// lacks (each with what it breaks), and whether ffmpeg is protected against outliving the agent
// (setpriv --pdeathsig). Exit 0 when everything needed is there, 1 otherwise, with the fixes.
import type { Command } from 'commander';
import { ffmpegInfo, type FfmpegInfo, type MissingCapability } from '../../ffmpeg/info';
import { checkSetpriv, orphanProtection, type OrphanProtection } from '../../ffmpeg/launch';
import { configuredFfmpegPath, INSTALL_HINT, locateFfmpeg, type LocatedFfmpeg } from '../../ffmpeg/locate';
import type { Wrap } from '../action';
import { json } from '../output';
import { EXIT_FAILURE, EXIT_OK } from '../../../lib/errors';

export interface DoctorReport {
  ok: boolean;
  ffmpeg: {
    found: boolean;
    path?: string;
    source?: LocatedFfmpeg['source'];
    via?: string;
    /** What was tried and skipped on the way. */
    notes: string[];
    version?: string;
    major?: number | null;
    /** Why it was not found or could not run. */
    error?: string;
  };
  missing: MissingCapability[];
  /** Problems other than missing capabilities (version, ffmpeg cannot run, no orphan protection). */
  problems: string[];
  orphanProtection: OrphanProtection;
  /** What to do, one line each. */
  fixes: string[];
}

const SOURCE_WORDS: Record<LocatedFfmpeg['source'], string> = {
  config: 'the config',
  env: 'the environment',
  'ffmpeg-static': 'the ffmpeg-static package',
  path: 'PATH',
};

export async function doctorReport(configPath: string | undefined, env: Record<string, string | undefined>): Promise<DoctorReport> {
  const problems: string[] = [];
  const fixes: string[] = [];
  const report: DoctorReport = { ok: false, ffmpeg: { found: false, notes: [] }, missing: [], problems, orphanProtection: orphanProtection(), fixes };

  let located: LocatedFfmpeg | undefined;
  try {
    located = locateFfmpeg({ configPath, env });
    report.ffmpeg = { found: true, path: located.path, source: located.source, via: located.via, notes: located.notes };
  } catch (err) {
    report.ffmpeg.error = (err as Error).message;
    problems.push(`ffmpeg: ${(err as Error).message}`);
    fixes.push(
      configPath || env.FFMPEG_PATH || env.FFMPEG_BIN
        ? 'fix or unset video.ffmpegPath / FFMPEG_PATH / FFMPEG_BIN (the message above names which)'
        : INSTALL_HINT,
    );
  }

  if (located) {
    let info: FfmpegInfo | undefined;
    try {
      info = await ffmpegInfo(located);
    } catch (err) {
      const msg = `${located.path} does not run: ${(err as Error).message.split('\n')[0]}`;
      report.ffmpeg.error = msg;
      problems.push(msg);
      fixes.push(`check that ${located.path} is an ffmpeg binary for this machine, or ${INSTALL_HINT}`);
    }
    if (info) {
      report.ffmpeg.version = info.version;
      report.ffmpeg.major = info.major;
      report.missing = info.missing;
      problems.push(...info.problems);
      if (info.missing.length > 0 || info.problems.length > 0) {
        fixes.push(
          `use a full ffmpeg ≥ 5 (Debian/Ubuntu: apt-get install ffmpeg, which has libx264, SRT and RTMP), then set video.ffmpegPath to it if it is not the one found first`,
        );
      }
    }
  }

  const op = report.orphanProtection;
  if (op.available && op.setpriv) {
    const check = await checkSetpriv(op.setpriv);
    if (!check.ok) {
      report.orphanProtection = {
        available: false,
        setpriv: op.setpriv,
        reason: `${check.detail}: ffmpeg is spawned directly and survives an agent killed by SIGKILL`,
      };
    }
  }
  if (!report.orphanProtection.available && process.platform === 'linux') {
    problems.push(`no orphan protection: ${report.orphanProtection.reason}`);
    fixes.push('install util-linux ≥ 2.33 (apt-get install util-linux) for /usr/bin/setpriv');
  }
  report.ok = report.ffmpeg.found && report.ffmpeg.error === undefined && report.missing.length === 0 && problems.length === 0;
  return report;
}

export function doctorText(r: DoctorReport): string {
  const lines: string[] = [];
  if (r.ffmpeg.found) {
    lines.push(`ffmpeg: ${r.ffmpeg.path}`);
    const from =
      r.ffmpeg.source === 'path' || r.ffmpeg.source === 'ffmpeg-static'
        ? r.ffmpeg.via
        : `${r.ffmpeg.source ? SOURCE_WORDS[r.ffmpeg.source] : '-'} (${r.ffmpeg.via})`;
    lines.push(`  found via: ${from}`);
    if (r.ffmpeg.version) lines.push(`  version: ${r.ffmpeg.version}`);
  } else {
    lines.push('ffmpeg: NOT FOUND');
  }
  for (const n of r.ffmpeg.notes) lines.push(`  tried: ${n}`);
  if (r.ffmpeg.found && r.ffmpeg.version) {
    if (r.missing.length === 0) lines.push('capabilities: everything camgate needs is there');
    else {
      lines.push(`capabilities: ${r.missing.length} missing`);
      for (const m of r.missing) lines.push(`  - ${m.message}`);
    }
  }
  lines.push(`orphan protection: ${r.orphanProtection.available ? 'yes' : 'NO'} (${r.orphanProtection.reason})`);
  if (r.problems.length > 0) {
    lines.push('problems:');
    for (const p of r.problems) lines.push(`  - ${p}`);
  }
  if (r.fixes.length > 0) {
    lines.push('fix:');
    for (const f of r.fixes) lines.push(`  - ${f}`);
  }
  lines.push(r.ok ? 'video: ready' : 'video: NOT ready');
  return lines.join('\n') + '\n';
}

export function registerDoctor(program: Command, wrap: Wrap): void {
  program
    .command('doctor')
    .description(
      'check the video prerequisites: which ffmpeg is used and from where, its version and missing capabilities, orphan protection; exit 1 when something needed is missing',
    )
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const report = await doctorReport(configuredFfmpegPath(ctx.config), ctx.io.env);
        ctx.out(cmd.opts().json ? json(report) : doctorText(report));
        return report.ok ? EXIT_OK : EXIT_FAILURE;
      }),
    );
}
