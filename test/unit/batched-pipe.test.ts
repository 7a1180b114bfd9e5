import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable, Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { batchedPipe } from '../../common/batched-pipe.js';

test('batchedPipe delivers every byte in order and coalesces the writes of one turn', async () => {
  const writes: number[] = [];
  const received: Buffer[] = [];
  const dst = new Writable({
    highWaterMark: 256 * 1024,
    writev(chunks, cb) {
      writes.push(chunks.length);
      for (const c of chunks) received.push(c.chunk as Buffer);
      cb();
    },
    write(chunk: Buffer, _enc, cb) {
      writes.push(1);
      received.push(chunk);
      cb();
    },
  });
  const src = new PassThrough();
  batchedPipe(src, dst);
  const parts = Array.from({ length: 200 }, (_, i) => Buffer.alloc(16 * 1024, i % 256));
  for (const p of parts) src.write(p);
  src.end();
  await new Promise((r) => dst.on('finish', r));
  assert.equal(createHash('sha256').update(Buffer.concat(received)).digest('hex'), createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  assert.ok(writes.length < parts.length / 2, `${writes.length} writes for ${parts.length} chunks`);
});

test('batchedPipe honours backpressure: a slow destination pauses the source', async () => {
  let pending = 0;
  let maxBuffered = 0;
  const dst = new Writable({
    highWaterMark: 64 * 1024,
    write(_chunk, _enc, cb) {
      pending++;
      setTimeout(() => {
        pending--;
        cb();
      }, 1);
    },
  });
  let produced = 0;
  const src = new Readable({
    read() {
      if (produced >= 4 * 1024 * 1024) return this.push(null);
      produced += 64 * 1024;
      this.push(Buffer.alloc(64 * 1024));
      maxBuffered = Math.max(maxBuffered, dst.writableLength);
    },
  });
  batchedPipe(src, dst);
  await new Promise((r) => dst.on('finish', r));
  assert.equal(pending, 0);
  assert.ok(maxBuffered <= 1024 * 1024, `destination buffered at most ${maxBuffered} bytes`);
});

test('a destroyed destination stops the flow without throwing', async () => {
  const src = new PassThrough();
  const dst = new PassThrough();
  batchedPipe(src, dst);
  dst.destroy();
  await new Promise((r) => setImmediate(r));
  assert.doesNotThrow(() => src.write(Buffer.from('after close')));
});
