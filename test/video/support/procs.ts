// /proc helpers for the real-ffmpeg tests (Linux). Nothing here kills anything.
import { readFileSync } from 'node:fs';

/** State letter from /proc/<pid>/stat (R, S, D, Z, …), or undefined when the pid is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid …": comm may contain spaces and parentheses; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Gone: no such process, or a zombie (dead, only waiting to be reaped by its new parent). */
export function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  return procState(pid) === undefined || procState(pid) === 'Z';
}

export function procField(pid: number, file: 'comm' | 'cmdline'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

export function parentPid(pid: number): number | undefined {
  try {
    const m = /^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
