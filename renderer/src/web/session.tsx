import { createContext, useContext } from 'react';

/** What the headless UI's layout needs from the sign-in gate. Absent in the desktop app. */
export interface WebSession {
  user: string;
  signOut: () => void;
  /** Changes the admin password (Settings); resolves once the server accepted it. */
  changePassword: (current: string, next: string) => Promise<void>;
}

export const WebSessionContext = createContext<WebSession | undefined>(undefined);

/** The signed-in session in headless mode; undefined in the desktop app. */
export function useWebSession(): WebSession | undefined {
  return useContext(WebSessionContext);
}
