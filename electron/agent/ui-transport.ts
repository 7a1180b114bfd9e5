import path from 'node:path';
import { connectorApiSchemas, type ApiInput, type ConnectorApi } from '../../shared/api.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { TRUSTED_CA_NAME } from './api/ca-import.js';
import { parseHostPort } from './config-ops.js';
import { trustedCaDir } from './trusted-ca.js';

export const UPLOAD_CA_INSTEAD = 'Upload the CA certificate (PEM) instead of naming a file on the server.';

/** A path importCaCertificate returned: exactly <dataDir>/trusted-ca/<hex>.pem, no other spelling of it. */
export function isImportedCaFile(dataDir: string, file: string): boolean {
  return path.isAbsolute(file) && path.normalize(file) === file && path.dirname(file) === trustedCaDir(dataDir) && TRUSTED_CA_NAME.test(path.basename(file));
}

function refuse(): never {
  throw new SkybridgeError(ErrorCode.InvalidInput, UPLOAD_CA_INSTEAD);
}

/**
 * The API as the UI transports offer it (the headless UI's HTTP and the desktop app's IPC).
 * Whoever sits at a browser, or code running in a compromised renderer, is not the person
 * with a shell on this machine, so it may not make the agent open files of its choosing: a
 * system's caFile may only be set to a CA uploaded through importCaCertificate. Keeping a
 * caFile the system already has (an update that resends it) is not setting it. The CLI calls
 * the unwrapped API and names local files as before.
 *
 * Refusals happen before the inner API runs, so config.json is untouched and no change is noted.
 */
export function restrictToUiTransport(api: ConnectorApi, dataDir: string): ConnectorApi {
  const guarded: Pick<ConnectorApi, 'addSystem' | 'updateSystem'> = {
    async addSystem(input) {
      const parsed = connectorApiSchemas.addSystem.input.safeParse(input);
      // Input the schema refuses goes on unchanged: the API refuses it with its usual sentence.
      if (!parsed.success) return api.addSystem(input);
      const { caFile } = parsed.data.system;
      if (caFile !== undefined && !isImportedCaFile(dataDir, caFile)) refuse();
      // What was checked is what runs: the parsed value, not the raw input again.
      return api.addSystem(parsed.data as ApiInput<'addSystem'>);
    },
    async updateSystem(input) {
      const parsed = connectorApiSchemas.updateSystem.input.safeParse(input);
      if (!parsed.success) return api.updateSystem(input);
      const { caFile } = parsed.data.patch;
      if (typeof caFile === 'string' && !isImportedCaFile(dataDir, caFile) && (await currentCaFile(api, parsed.data)) !== caFile) refuse();
      return api.updateSystem(parsed.data as ApiInput<'updateSystem'>);
    },
  };
  return new Proxy(api, {
    get(target, prop, receiver) {
      if (prop === 'addSystem' || prop === 'updateSystem') return guarded[prop];
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** The caFile the system has now; undefined when it has none or does not exist (the update then fails on its own). */
async function currentCaFile(api: ConnectorApi, input: { subaccount?: string; system: string }): Promise<string | undefined> {
  try {
    const { host, port } = parseHostPort(input.system);
    const systems = await api.listSystems({ subaccount: input.subaccount });
    return systems.find((s) => s.virtualHost.toLowerCase() === host && s.virtualPort === port)?.caFile;
  } catch {
    return undefined;
  }
}
