import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { AuditSink, SinkBatch } from '../../services/audit/AuditStream.ts';

/**
 * Appends each item as a JSON line to a file, created readable and writable by Sesame's OS user
 * only, and flushes it to disk (fsync) before the batch counts as taken. The file is opened for
 * each batch, so a log rotation that moves it away is followed by a new file. A crash in the
 * middle of a write can leave one incomplete last line; the next write starts on a line of its
 * own, so a reader skips that one line (its items are written again after it).
 */
export class FileSink implements AuditSink {
  readonly describe: string;
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    this.describe = `file ${basename(path)}`;
  }

  async deliver(batch: SinkBatch): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    const file = await open(this.#path, 'a+', 0o600);
    try {
      const lines = batch.items.map((item) => `${JSON.stringify(item)}\n`).join('');
      await file.appendFile((await endsMidLine(file)) ? `\n${lines}` : lines, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
  }
}

/** Whether the file's last byte is not a line end (an interrupted write), so the next line must start anew. */
async function endsMidLine(file: FileHandle): Promise<boolean> {
  const { size } = await file.stat();
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  await file.read(last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
