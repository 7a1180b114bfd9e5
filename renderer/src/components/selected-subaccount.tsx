import { createContext, useContext, useState, type ReactNode } from 'react';
import type { SubaccountSummary } from '../../../shared/api.js';
import type { ApiError } from '../api/client.js';
import { useSubaccounts } from './live-subaccounts.js';

type Choice = { id: string | undefined; setId: (id: string) => void };
const SelectedContext = createContext<Choice | undefined>(undefined);

/** Holds which subaccount the pages work on, so Systems, Traffic and Audit agree. Mounted once in App. */
export function SelectedSubaccountProvider({ children }: { children: ReactNode }) {
  const [id, setId] = useState<string | undefined>(undefined);
  return <SelectedContext.Provider value={{ id, setId }}>{children}</SelectedContext.Provider>;
}

export interface SelectedSubaccount {
  /** Every subaccount, with live state. */
  subaccounts: SubaccountSummary[];
  /** The chosen one; the first one until the user picks; undefined while loading or when none is paired. */
  selected: SubaccountSummary | undefined;
  /** `selected?.id`: pass it as `subaccount` in API inputs. */
  subaccountId: string | undefined;
  select: (id: string) => void;
  isPending: boolean;
  error: ApiError | null;
}

/**
 * The subaccount the user is working on (shared by every page through SelectedSubaccountProvider;
 * without a provider each component keeps its own choice).
 */
export function useSelectedSubaccount(): SelectedSubaccount {
  const shared = useContext(SelectedContext);
  const [localId, setLocalId] = useState<string | undefined>(undefined);
  const query = useSubaccounts();
  const subaccounts = query.data ?? [];
  const wanted = shared ? shared.id : localId;
  const selected = subaccounts.find((s) => s.id === wanted) ?? subaccounts[0];
  return {
    subaccounts,
    selected,
    subaccountId: selected?.id,
    select: shared ? shared.setId : setLocalId,
    isPending: query.isPending,
    error: query.error,
  };
}
