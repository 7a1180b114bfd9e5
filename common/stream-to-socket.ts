import type net from 'node:net';
import type { Readable } from 'node:stream';

/** Bytes the socket may hold unsent before the source is paused: several turns' worth of HTTP/2 frames. */
const MAX_BUFFERED = 1024 * 1024;

/**
 * An HTTP/2 stream's data into a TCP socket, with the chunks of one
 * event-loop turn written together (cork until setImmediate), as
 * batchedPipe does for HTTP responses: HTTP/2 hands data over in pieces of at
 * most 16 KiB, and a write syscall per piece was the largest single cost of
 * the SOCKS5 data path. Unlike pipe() and batchedPipe, it never ends the
 * socket: for a raw TCP stream the caller decides whether the source's end
 * was an END_STREAM (pass on a FIN) or a reset (abort the socket).
 * Backpressure: the source pauses while the socket holds more than MAX_BUFFERED.
 */
export function streamToSocket(src: Readable, dst: net.Socket): void {
  let corked = false;
  let paused = false;
  const resume = () => {
    paused = false;
    src.resume();
  };
  const flush = () => {
    corked = false;
    if (dst.destroyed) return;
    dst.uncork();
    if (!paused && dst.writableLength > MAX_BUFFERED) {
      paused = true;
      src.pause();
      dst.once('drain', resume);
    }
  };
  src.on('data', (chunk: Buffer) => {
    if (dst.destroyed || dst.writableEnded) return;
    if (!corked) {
      corked = true;
      dst.cork();
      setImmediate(flush);
    }
    dst.write(chunk);
  });
}
