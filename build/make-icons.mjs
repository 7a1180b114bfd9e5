#!/usr/bin/env node
// Draws the app icon and the tray icons as PNGs: `node build/make-icons.mjs`.
// Shapes are signed-distance tests sampled 4x4 per pixel for smooth edges; the PNG is
// written by hand (IHDR, IDAT, IEND) so the script needs nothing beyond node:zlib.
// The outputs are committed; rerun this only when the drawing changes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const BUILD = path.dirname(fileURLToPath(import.meta.url));

// --- PNG encoding -------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  if (zlib.crc32) return zlib.crc32(bytes); // Node >= 20.15
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** `rgba`: width*height*4 bytes, straight (not premultiplied) alpha. */
function encodePng(width, height, rgba) {
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height); // each row starts with filter type 0
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// --- drawing ------------------------------------------------------------------------

const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255);
const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);

/**
 * Renders `layers` (painted in order) into a size x size image. Each layer is
 * { inside(x, y) -> boolean, color(x, y) -> [r, g, b] }, in a `units` x `units` space.
 */
function render(size, units, layers, samples = 4) {
  const rgba = Buffer.alloc(size * size * 4);
  const scale = units / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0; // premultiplied sums
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) * scale;
          const y = (py + (sy + 0.5) / samples) * scale;
          let c = [0, 0, 0], alpha = 0;
          for (const layer of layers) {
            if (layer.inside(x, y)) {
              c = layer.color(x, y);
              alpha = 1;
            }
          }
          r += c[0] * alpha; g += c[1] * alpha; b += c[2] * alpha; a += alpha;
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        rgba[i] = Math.round((r / a) * 255);
        rgba[i + 1] = Math.round((g / a) * 255);
        rgba[i + 2] = Math.round((b / a) * 255);
      }
      rgba[i + 3] = Math.round((a / (samples * samples)) * 255);
    }
  }
  return encodePng(size, size, rgba);
}

function roundedSquare(x0, y0, x1, y1, radius) {
  return (x, y) => {
    const dx = Math.max(x0 + radius - x, 0, x - (x1 - radius));
    const dy = Math.max(y0 + radius - y, 0, y - (y1 - radius));
    return x >= x0 && x <= x1 && y >= y0 && y <= y1 && dx * dx + dy * dy <= radius * radius;
  };
}

function segment(ax, ay, bx, by, width) {
  return (x, y) => {
    const vx = bx - ax, vy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)));
    return Math.hypot(x - (ax + t * vx), y - (ay + t * vy)) <= width / 2;
  };
}

/** The main cable sagging between the towers: a parabola from `top` at each tower to `bottom` midway. */
function cable(left, right, top, bottom, width) {
  const mid = (left + right) / 2, half = (right - left) / 2;
  return (x, y) => {
    if (x < left || x > right || y < top) return false;
    const u = (x - mid) / half;
    const f = bottom - (bottom - top) * u * u;
    const slope = (-2 * (bottom - top) * u) / half;
    return Math.abs(y - f) / Math.hypot(1, slope) <= width / 2;
  };
}

const any = (...shapes) => (x, y) => shapes.some((inside) => inside(x, y));
const solid = (rgb) => () => rgb;

/** A suspension bridge on a blue tile: a link across a gap, which is what Skybridge is. */
function appIcon(size) {
  const top = hex('#2f7be0'), bottom = hex('#163f80'), white = hex('#ffffff');
  const towers = any(segment(160, 150, 160, 392, 26), segment(352, 150, 352, 392, 26));
  const cables = any(
    cable(160, 352, 150, 300, 12),
    segment(160, 150, 64, 318, 12),
    segment(352, 150, 448, 318, 12),
  );
  const cableAt = (x) => 300 - 150 * ((x - 256) / 96) ** 2;
  const hangers = any(...[184, 208, 232, 256, 280, 304, 328].map((x) => segment(x, cableAt(x), x, 330, 6)));
  const deck = roundedSquare(48, 318, 464, 346, 6);
  return render(size, 512, [
    { inside: roundedSquare(16, 16, 496, 496, 104), color: (_x, y) => mix(top, bottom, (y - 16) / 480) },
    { inside: any(towers, cables, hangers, deck), color: solid(white) },
  ]);
}

/** Colour and shape both tell the states apart, for people who cannot tell amber from green. */
const TRAY = {
  connected: { color: '#2ea44f', fill: 'full' },
  degraded: { color: '#e0a100', fill: 'half' },
  offline: { color: '#d1453b', fill: 'none' },
};

function trayIcon(size, { color, fill }) {
  const c = hex(color), edge = mix(c, [0, 0, 0], 0.35);
  const dist = (x, y) => Math.hypot(x - 8, y - 8);
  // The white core is the "empty" part: none for connected, the top half for degraded, all of it offline.
  const hollow = (x, y) => fill === 'none' || (fill === 'half' && y < 8);
  return render(size, 16, [
    { inside: (x, y) => dist(x, y) <= 7.5, color: solid(edge) },
    { inside: (x, y) => dist(x, y) <= 6.7, color: solid(c) },
    { inside: (x, y) => dist(x, y) <= 4.4 && hollow(x, y), color: solid(edge) },
    { inside: (x, y) => dist(x, y) <= 3.6 && hollow(x, y), color: solid([1, 1, 1]) },
  ]);
}

function write(relative, bytes) {
  const file = path.join(BUILD, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return relative;
}

const written = [write('icons/512x512.png', appIcon(512))];
for (const [state, style] of Object.entries(TRAY)) {
  written.push(write(`tray/${state}.png`, trayIcon(16, style)), write(`tray/${state}@2x.png`, trayIcon(32, style)));
}
console.log(`wrote ${written.map((f) => `build/${f}`).join(', ')}`);
