/**
 * Follows a file as a job writes it, so `exaworks run` shows the job's output while it runs.
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Writer } from './io.js';

/** Copies what is appended to a file to a writer, from where it last stopped. */
export class FileFollower {
  #handle: FileHandle | undefined;
  #offset = 0;
  #busy: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly write: Writer,
    private readonly before: () => void = () => {},
    private readonly after: () => void = () => {},
  ) {}

  /** Copies whatever is new; polls never overlap. Missing files are not an error (not created yet). */
  poll(): Promise<void> {
    this.#busy = this.#busy.then(() => this.#read());
    return this.#busy;
  }

  async #read(): Promise<void> {
    if (!this.#handle) {
      try {
        this.#handle = await open(this.file, 'r');
      } catch {
        return;
      }
    }
    const buffer = Buffer.alloc(64 * 1024);
    let wrote = false;
    for (;;) {
      const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, this.#offset);
      if (bytesRead === 0) break;
      if (!wrote) this.before();
      wrote = true;
      this.#offset += bytesRead;
      this.write(Buffer.from(buffer.subarray(0, bytesRead)));
    }
    if (wrote) this.after();
  }

  /** Copies the rest and closes the file. */
  async close(): Promise<void> {
    await this.poll();
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
  }
}
