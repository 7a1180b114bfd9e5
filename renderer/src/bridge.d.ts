/**
 * What electron/preload/preload.cts exposes. Absent when the UI is served to a browser by
 * the headless agent, hence optional.
 */
interface SkybridgeBridge {
  readonly version: string;
}

interface Window {
  readonly skybridge?: SkybridgeBridge;
}
