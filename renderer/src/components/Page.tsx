import type { ReactNode } from 'react';
import { SubaccountPicker } from './SubaccountPicker.js';

export interface PageProps {
  /** The page's h1 (also its accessible name). */
  title: string;
  /** One sentence under the title on what the page is for. */
  description?: ReactNode;
  /** Buttons on the right of the title row. */
  actions?: ReactNode;
  /** Show the shared SubaccountPicker in the title row (pages that work on one subaccount). */
  picker?: boolean;
  className?: string;
  children?: ReactNode;
}

/**
 * The frame of every page: `<section aria-labelledby="page-title"><h1 id="page-title">`, an
 * optional description, the subaccount picker and actions, then the content.
 */
export function Page({ title, description, actions, picker, className, children }: PageProps) {
  return (
    <section className={`page${className ? ` ${className}` : ''}`} aria-labelledby="page-title">
      <header className="page-head">
        <div className="page-head-text">
          <h1 id="page-title">{title}</h1>
          {description ? <p className="page-description">{description}</p> : null}
        </div>
        {picker || actions ? (
          <div className="page-head-tools">
            {picker ? <SubaccountPicker /> : null}
            {actions}
          </div>
        ) : null}
      </header>
      {children}
    </section>
  );
}
