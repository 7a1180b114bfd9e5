// Types for build/start.mjs, for the TypeScript files that import it (test/e2e/electron.spec.ts).
export declare const UI_PORT: number;
export declare const UI_URL: string;
export declare function electronBinary(options?: { env?: NodeJS.ProcessEnv; root?: string; platform?: NodeJS.Platform }): string | undefined;
export declare function chooseMode(options: {
  binary: string | undefined;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  args?: string[];
}): { mode: 'desktop' | 'headless'; reason?: string };
