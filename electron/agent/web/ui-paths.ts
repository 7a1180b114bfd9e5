import path from 'node:path';

/**
 * Where the headless UI keeps its state inside the agent's data dir. One folder, readable
 * by the owner only: the admin account, the initial password, the UI's own certificate.
 */
export function uiPaths(dataDir: string) {
  const dir = path.join(dataDir, 'ui');
  return {
    dir,
    admin: path.join(dir, 'admin.json'),
    initialPassword: path.join(dir, 'initial-admin-password'),
    cert: path.join(dir, 'tls.pem'),
    key: path.join(dir, 'tls.key'),
    /** Support bundles exported from the browser: the browser cannot name server paths, so they land here. */
    exports: path.join(dataDir, 'exports'),
  };
}
