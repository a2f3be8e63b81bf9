// The birth/death sequence (bdSeq): one number per MQTT connection, persisted so it keeps
// increasing across restarts. Stored in <dataDir>/uplink-bdseq.json and replaced atomically
// (write a temp file, fsync, rename, fsync the directory), so a kill -9 or power cut leaves
// either the old or the new value, never a torn file.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const BDSEQ_FILE = 'uplink-bdseq.json';

export interface BdSeqStore {
  /** The last bdSeq used (-1 before the first connection ever). */
  current(): number;
  /** Persists and returns the bdSeq for a new connection (current + 1). */
  next(): number;
}

export class FileBdSeqStore implements BdSeqStore {
  private value: number;

  constructor(readonly file: string) {
    this.value = readValue(file);
  }

  static inDataDir(dataDir: string): FileBdSeqStore {
    return new FileBdSeqStore(join(dataDir, BDSEQ_FILE));
  }

  current(): number {
    return this.value;
  }

  next(): number {
    const value = this.value + 1;
    writeAtomically(this.file, JSON.stringify({ bdSeq: value }) + '\n');
    this.value = value;
    return value;
  }
}

/** In memory only (tests, or a box without a data dir). */
export class MemoryBdSeqStore implements BdSeqStore {
  constructor(private value = -1) {}
  current(): number {
    return this.value;
  }
  next(): number {
    return ++this.value;
  }
}

function readValue(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw err;
  }
  try {
    const v = (JSON.parse(text) as { bdSeq?: unknown }).bdSeq;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  } catch {
    // fall through
  }
  throw new Error(`${file} does not hold a bdSeq ({"bdSeq": N}); delete it to restart the sequence at 0`);
}

function writeAtomically(file: string, text: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
