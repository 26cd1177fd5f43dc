/**
 * The pipe a task's stdout or stderr goes through, read with one reusable buffer.
 *
 * Why not the pipes child_process makes: Node reads those into a fresh 64 KiB Buffer per read,
 * and V8 frees them only when external memory has grown by ~32 MB, so a task printing a
 * gigabyte raised the worker's RSS by 33–38 MB (measured). A socket created with `onread` reads
 * into a buffer we own instead (RSS rise ~1.5 MB for the same gigabyte), but Node creates such a
 * socket only around a file descriptor we hold — and it offers no pipe(2). So we make a named
 * pipe (`mkfifo`), open both ends, unlink it at once (an unlinked FIFO works like an anonymous
 * pipe and leaves nothing behind), give the write end to the child and read the other.
 * A FIFO, unlike a socketpair, is what tasks expect: `echo x > /dev/stdout` works.
 */
import { close, constants, open } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { type ConnectOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';

const openFd = promisify(open);
const closeFd = promisify(close);

/** 64 KiB: the default capacity of a Linux pipe, so one read usually empties it. */
const readBufferBytes = 64 * 1024;

/** One pipe: the child's end, and our reading of the other. */
export interface CapturePipe {
  /** Pass to the child as its stdout/stderr, then call `closeWriteEnd`. */
  readonly writeFd: number;
  /** Closes our copy of the write end, so that EOF comes when the child's copies close. */
  closeWriteEnd(): Promise<void>;
  /**
   * Resolves true at EOF, or false after `timeoutMs` if some process outside the task's group
   * still holds the write end; either way the read end is closed.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/**
 * Creates one pipe per entry of `onData`, named `<prefix>.<index>.fifo` in `dir` for the
 * moment it takes to open them. `onData` gets a view of the shared read buffer, valid only
 * during the call.
 */
export async function openCapturePipes(
  dir: string,
  prefix: string,
  onData: readonly ((chunk: Uint8Array) => void)[],
): Promise<CapturePipe[]> {
  const paths = onData.map((_, index) => join(dir, `${prefix}.${index}.fifo`));
  await Promise.all(paths.map((path) => unlink(path).catch(() => undefined)));
  await execa('mkfifo', ['-m', '600', ...paths]);
  const pipes: CapturePipe[] = [];
  try {
    for (const [index, path] of paths.entries()) pipes.push(await openPipe(path, onData[index]!));
    return pipes;
  } catch (error) {
    for (const pipe of pipes) {
      await pipe.closeWriteEnd();
      await pipe.drain(0);
    }
    throw error;
  } finally {
    await Promise.all(paths.map((path) => unlink(path).catch(() => undefined)));
  }
}

async function openPipe(path: string, onData: (chunk: Uint8Array) => void): Promise<CapturePipe> {
  // Non-blocking, so opening the read end does not wait for a writer; the write end then opens
  // at once because a reader exists.
  const readFd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let writeFd: number;
  try {
    writeFd = await openFd(path, constants.O_WRONLY);
  } catch (error) {
    await closeFd(readFd);
    throw error;
  }
  const buffer = Buffer.alloc(readBufferBytes);
  const options: SocketConstructorOpts & ConnectOpts = {
    fd: readFd,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (bytes: number) => {
        onData(buffer.subarray(0, bytes));
        return true;
      },
    },
  };
  const socket = new Socket(options);
  const ended = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
    socket.once('error', () => resolve()); // a read error ends the capture, not the attempt
  });
  let writeOpen = true;
  return {
    writeFd,
    async closeWriteEnd() {
      if (!writeOpen) return;
      writeOpen = false;
      await closeFd(writeFd);
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const eof = await Promise.race([ended.then(() => true as const), timedOut]);
      clearTimeout(timer);
      socket.destroy();
      return eof;
    },
  };
}
