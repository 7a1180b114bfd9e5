import type { ReactNode } from 'react';

/**
 * What a page or list shows when there is nothing yet: a title, a sentence on why, and the
 * next step (a link or button) as `action`.
 */
export function EmptyState({ title, children, action }: { title: ReactNode; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty-state">
      <p className="empty-state-title">{title}</p>
      {children ? <div className="empty-state-text">{children}</div> : null}
      {action ? <div className="empty-state-action">{action}</div> : null}
    </div>
  );
}
