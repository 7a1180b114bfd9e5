/**
 * A fresh world per spec file for the browser tests: a real relay with a tenant and a
 * cloud app, the sample ERP on loopback as the internal system, and a headless agent
 * (`skybridge agent start --ui-port`) with an empty data dir, so the UI starts where a
 * new site administrator starts: the initial password, nothing paired.
 *
 * The processes come from the integration harness (loaded from source: Playwright
 * transpiles it), which also tracks them for cleanup.
 */
import { existsSync, readFileSync } from 'node:fs';
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { startSampleErp } from '../../cli/sample-erp.js';
import {
  cleanupAll,
  cliValue,
  curl,
  freePort,
  httpsGet,
  onCleanup,
  readAgentStatus,
  spawnCli,
  startRelay,
  tempDir,
  waitFor,
  type Child,
  type CurlResult,
  type RelayHandle,
} from '../integration/harness.js';
import { chromiumMissing } from './chromium.js';

export { expect, test };

/** What the sample ERP serves to the cloud, and the admin page it must never serve. */
export const ERP_VIRTUAL_HOST = 'erp.virtual';
export const ERP_VIRTUAL_PORT = 443;
export const PARTNER_PATH = '/sap/opu/odata/sap/API_BUSINESS_PARTNER';

export interface World {
  relay: RelayHandle;
  relayDir: string;
  agentDir: string;
  agent: Child;
  /** The internal system, on 127.0.0.1. */
  erpPort: number;
  tenantId: string;
  /** The cloud app's token for the relay's HTTP proxy. */
  appToken: string;
  /** https://127.0.0.1:PORT/ of the headless UI. */
  uiUrl: string;
  initialPassword: string;
  /** A one-time pairing code for the tenant, as an operator would hand it to the site. */
  newPairingCode(): Promise<string>;
  /** A cloud app's request through the relay's HTTP proxy, with real curl. */
  cloudGet(path: string): Promise<CurlResult>;
  /** The agent's tunnel state per subaccount, from its status file. */
  tunnelStates(): string[];
  /** The end of the agent's and relay's logs, for failure reports. */
  logs(): string;
}

const tail = (s: string, n = 4000) => (s.length > n ? '…' + s.slice(-n) : s);

export async function startWorld(): Promise<World> {
  const erp = await startSampleErp();
  onCleanup(() => erp.close());
  const relayDir = await tempDir('skybridge-e2e-relay-');
  const agentDir = await tempDir('skybridge-e2e-agent-');
  const relay = await startRelay(relayDir);
  const tenantId = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relayDir]);
  const appToken = await cliValue(['relay', 'app', 'create', 'billing', '--tenant', tenantId, '--data-dir', relayDir]);

  const uiPort = await freePort();
  const agent = spawnCli('agent', ['agent', 'start', '--data-dir', agentDir, '--ui-port', String(uiPort)]);
  const passwordFile = `${agentDir}/ui/initial-admin-password`;
  await waitFor(
    async () => {
      agent.assertAlive();
      const r = await httpsGet(uiPort, '/', 1000);
      return r.status === 200 && existsSync(passwordFile);
    },
    20_000,
    `the headless UI on https://127.0.0.1:${uiPort}/ and ${passwordFile}`,
  );
  const initialPassword = readFileSync(passwordFile, 'utf8').trim();
  if (!initialPassword) throw new Error(`${passwordFile} is empty`);

  return {
    relay,
    relayDir,
    agentDir,
    agent,
    erpPort: erp.port,
    tenantId,
    appToken,
    uiUrl: `https://127.0.0.1:${uiPort}/`,
    initialPassword,
    newPairingCode: () => cliValue(['relay', 'pairing-code', '--tenant', tenantId, '--data-dir', relayDir]),
    cloudGet: (path) =>
      curl(['-x', `http://127.0.0.1:${relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${appToken}`, `http://${ERP_VIRTUAL_HOST}:${ERP_VIRTUAL_PORT}${path}`]),
    tunnelStates: () => readAgentStatus(agentDir)?.subaccounts.map((s) => s.status.state) ?? [],
    logs: () => `agent stderr:\n${tail(agent.stderr())}\nagent stdout:\n${tail(agent.stdout())}\nrelay stderr:\n${tail(relay.child.stderr())}`,
  };
}

export interface FileWorld {
  world(): World;
  /** The one page every test of the file drives, in order. */
  page(): Page;
  context(): BrowserContext;
}

/**
 * For a spec file whose tests are steps of one story: runs them serially (a failed step
 * skips the rest), builds the world and one browser context before the first, tears
 * everything down after the last, and attaches the agent's and relay's logs to a failure.
 */
export function useWorld(): FileWorld {
  let world: World | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  test.describe.configure({ mode: 'serial' });
  const missing = chromiumMissing();
  test.skip(!!missing, missing ?? '');

  test.beforeAll(async ({ browser }: { browser: Browser }) => {
    test.setTimeout(120_000);
    world = await startWorld();
    // The project's context options (certificate, viewport, downloads) apply here too.
    context = await browser.newContext();
    page = await context.newPage();
  });

  test.afterEach(async () => {
    const info = test.info();
    if (world && info.status !== info.expectedStatus) {
      await info.attach('skybridge-logs.txt', { body: world.logs(), contentType: 'text/plain' });
    }
  });

  test.afterAll(async () => {
    // After a failed step Playwright's own trace bookkeeping can trip over the shared
    // context (ENOENT on a trace chunk); that must not hide the step's real error.
    await context?.close().catch((e: unknown) => console.warn(`closing the browser context: ${(e as Error).message}`));
    await cleanupAll();
  });

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} was not set up (beforeAll failed)`);
    return v;
  };
  return { world: () => need(world, 'the world'), page: () => need(page, 'the page'), context: () => need(context, 'the browser context') };
}
