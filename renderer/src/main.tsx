import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App.js';
import { createDesktopClient } from './api/client.js';
import { ClientProvider } from './api/context.js';
import { WebClient } from './api/web-client.js';
import { SignInGate } from './web/SignInGate.js';
import './app.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });
const bridge = window.skybridge;

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      {bridge ? (
        <ClientProvider client={createDesktopClient(bridge)}>
          <App />
        </ClientProvider>
      ) : (
        <SignInGate client={new WebClient()}>
          <App />
        </SignInGate>
      )}
    </QueryClientProvider>
  </StrictMode>,
);
