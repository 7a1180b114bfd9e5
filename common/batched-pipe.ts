import type { Readable, Writable } from 'node:stream';

/**
 * `src.pipe(dst)` that coalesces the chunks arriving in one event-loop turn
 * into one write to the socket behind `dst`. HTTP/2 hands over data in pieces
 * of at most 16 KiB (frames straddle TLS records), and piping each to an
 * HTTP/1.1 socket cost one syscall per piece; corking until the turn ends
 * halves the writes per GiB (see docs/protocol.md, measurements).
 * Backpressure is the same as pipe(): pause on a full buffer, resume on drain.
 */
export function batchedPipe(src: Readable, dst: Writable): void {
  let corked = false;
  let waiting = false;
  const flush = () => {
    corked = false;
    if (!dst.destroyed) dst.uncork();
  };
  const onDrain = () => {
    waiting = false;
    src.resume();
  };
  const onData = (chunk: Buffer) => {
    if (dst.destroyed || dst.writableEnded) return;
    if (!corked) {
      corked = true;
      dst.cork();
      setImmediate(flush);
    }
    if (!dst.write(chunk) && !waiting) {
      waiting = true;
      src.pause();
      dst.once('drain', onDrain);
    }
  };
  const onEnd = () => {
    cleanup();
    if (!dst.destroyed && !dst.writableEnded) dst.end();
  };
  const cleanup = () => {
    src.off('data', onData);
    src.off('end', onEnd);
    dst.off('close', onClose);
    dst.off('drain', onDrain);
  };
  const onClose = () => {
    cleanup();
    // As pipe() does: a destination that went away stops the flow; the source is left to its owner.
    src.pause();
  };
  src.on('data', onData);
  src.once('end', onEnd);
  dst.once('close', onClose);
}
