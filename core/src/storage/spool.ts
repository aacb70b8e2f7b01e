/**
 * The recorder's spool: an append-only NDJSON file, one line per batch of readings, each append
 * fsync'd. Read from an offset that only moves forward; deleted once everything is replayed.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** Readings in add() order, as columns. */
export interface Batch {
  ids: string[];
  ts: number[];
  vs: (number | null)[];
  /** Count of readings accepted up to and including this batch's last one (0 for replayed batches). */
  endSeq: number;
}

export function encode(b: Batch): { e: string[]; t: number[]; v: (number | null)[] } {
  return { e: b.ids, t: b.ts, v: b.vs };
}

/** Readings per spool line: each line is encoded, and parsed on replay, in one synchronous step. */
const LINE_READINGS = 2_000;

export class Spool {
  private fh: FileHandle | undefined;
  private size = 0;
  private offset = 0;

  constructor(private readonly file: string, private readonly log: Logger) {}

  get pending(): boolean {
    return this.offset < this.size;
  }

  get pendingBytes(): number {
    return this.size - this.offset;
  }

  async init(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    let size: number;
    try {
      size = (await fs.stat(this.file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // A crash during an append can leave a torn last line; those readings were never reported durable.
    const keep = await lastNewlineEnd(this.file, size);
    if (keep < size) {
      this.log.warn({ file: this.file, bytes: size - keep }, 'dropping a torn last line of the spool (written during a crash)');
      await fs.truncate(this.file, keep);
    }
    this.size = keep;
    if (keep > 0) this.log.info({ file: this.file, bytes: keep }, 'found readings spooled by an earlier run; replaying them');
  }

  /**
   * Appends the batches, in order, as lines of at most LINE_READINGS readings, and fsyncs once.
   * Lines are encoded one per loop turn: a spill can hold 200k readings, and stringifying them in
   * one go held the event loop for ~40 ms and made one string of ~8 MB (a whole 10k batch still ~8 ms).
   */
  async append(batches: Batch[]): Promise<void> {
    const parts: Buffer[] = [];
    let bytes = 0;
    for (const b of batches) {
      for (let start = 0; start < b.ids.length; start += LINE_READINGS) {
        if (parts.length > 0) await loopTurn();
        const piece = b.ids.length <= LINE_READINGS ? b
          : { ids: b.ids.slice(start, start + LINE_READINGS), ts: b.ts.slice(start, start + LINE_READINGS), vs: b.vs.slice(start, start + LINE_READINGS), endSeq: 0 };
        const line = Buffer.from(`${JSON.stringify(encode(piece))}\n`);
        parts.push(line);
        bytes += line.length;
      }
    }
    if (parts.length === 0) return;
    if (!this.fh) {
      this.fh = await fs.open(this.file, 'a');
      await syncDir(path.dirname(this.file));
    }
    try {
      const { bytesWritten } = await this.fh.writev(parts);
      if (bytesWritten !== bytes) throw new Error(`short write to the spool (${bytesWritten} of ${bytes} bytes)`);
      await this.fh.datasync();
    } catch (err) {
      await this.fh.truncate(this.size).catch(() => undefined);
      throw err;
    }
    this.size += bytes;
  }

  /** Whole lines from the current offset, up to about 4 MB (always at least one line). */
  async readNext(): Promise<{ batch: Batch; end: number }[]> {
    const fh = await fs.open(this.file, 'r');
    try {
      let want = Math.min(4 << 20, this.size - this.offset);
      for (;;) {
        const buf = Buffer.alloc(want);
        const { bytesRead } = await fh.read(buf, 0, want, this.offset);
        const last = buf.lastIndexOf(0x0a, bytesRead - 1);
        if (last < 0) {
          if (this.offset + bytesRead >= this.size) {
            // Cannot happen (appends end with a newline, torn tails are cut at start); never loop on it.
            this.log.error({ file: this.file, bytes: this.size - this.offset }, 'skipping an unterminated spool tail');
            this.offset = this.size;
            return [];
          }
          want *= 2; // a line longer than the window
          continue;
        }
        const out: { batch: Batch; end: number }[] = [];
        let start = 0;
        while (start <= last) {
          // Parse one line (at most LINE_READINGS readings, more in spools of older versions) per loop turn.
          if (start > 0) await loopTurn();
          const nl = buf.indexOf(0x0a, start);
          const line = buf.toString('utf8', start, nl);
          const end = this.offset + nl + 1;
          start = nl + 1;
          try {
            const o = JSON.parse(line) as { e: string[]; t: number[]; v: (number | null)[] };
            out.push({ batch: { ids: o.e, ts: o.t, vs: o.v, endSeq: 0 }, end });
          } catch {
            this.log.error({ file: this.file, at: end - line.length - 1 }, 'skipping an unreadable spool line');
            if (out.length === 0) this.offset = end;
            else out[out.length - 1].end = end;
          }
        }
        return out;
      }
    } finally {
      await fh.close();
    }
  }

  consumed(end: number): void {
    this.offset = end;
  }

  /** Everything is replayed: remove the file. */
  async clear(): Promise<void> {
    await this.close();
    await fs.rm(this.file, { force: true });
    this.size = 0;
    this.offset = 0;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function lastNewlineEnd(file: string, size: number): Promise<number> {
  if (size === 0) return 0;
  const fh = await fs.open(file, 'r');
  try {
    let pos = size;
    const chunk = 64 * 1024;
    while (pos > 0) {
      const len = Math.min(chunk, pos);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos - len);
      const i = buf.lastIndexOf(0x0a);
      if (i >= 0) return pos - len + i + 1;
      pos -= len;
    }
    return 0;
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the new file's directory entry durable; not supported everywhere (Windows), hence best effort.
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  await fh?.sync().catch(() => undefined);
  await fh?.close();
}
