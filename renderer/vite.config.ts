import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// import.meta.dirname (Node 20.11+) keeps this folder free of Node imports, like the UI it builds.
const here = import.meta.dirname;

// One bundle for both transports: loaded from file:// by Electron and over HTTPS by the
// headless agent, so every URL is relative ('./') and nothing is inlined (the CSP forbids it).
export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: `${here}/../dist/renderer`,
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./test/setup.ts'],
    include: ['test/**/*.test.tsx', 'test/**/*.test.ts'],
    css: false,
  },
});
