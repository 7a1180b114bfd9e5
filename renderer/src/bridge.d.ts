/** What electron/preload/preload.cts exposes; absent when the headless agent serves the UI to a browser. */
interface Window {
  readonly skybridge?: import('../../shared/ipc.js').DesktopBridge;
}
