import { useId, type ReactNode } from 'react';

export interface PanelProps {
  /** Heading of the panel (an h2 unless `level` says otherwise); the panel is labelled by it. */
  title?: ReactNode;
  level?: 2 | 3;
  /** Buttons or links on the right of the heading. */
  actions?: ReactNode;
  /** A short line under the heading. */
  description?: ReactNode;
  className?: string;
  children?: ReactNode;
  /** Render as <article> (one of a list, e.g. a subaccount card) rather than <section>. */
  as?: 'section' | 'article' | 'div';
}

/** A bordered box with an optional heading row: the building block of every page. */
export function Panel({ title, level = 2, actions, description, className, children, as = 'section' }: PanelProps) {
  const headingId = useId();
  const Tag = as;
  const Heading = level === 2 ? 'h2' : 'h3';
  return (
    <Tag className={`panel${className ? ` ${className}` : ''}`} aria-labelledby={title ? headingId : undefined}>
      {title || actions ? (
        <div className="panel-head">
          {title ? (
            <Heading className="panel-title" id={headingId}>
              {title}
            </Heading>
          ) : (
            <span />
          )}
          {actions ? <div className="panel-actions">{actions}</div> : null}
        </div>
      ) : null}
      {description ? <p className="panel-description">{description}</p> : null}
      {children}
    </Tag>
  );
}

/** Same as Panel; the name pages use for one item of a grid (a subaccount, a system). */
export const Card = (props: PanelProps) => <Panel as="article" level={3} {...props} className={`card${props.className ? ` ${props.className}` : ''}`} />;

/** A definition list of label/value pairs in a tidy grid; falsy items are skipped, so `cond && ['Label', value]` works. */
export function Facts({ items }: { items: readonly (readonly [ReactNode, ReactNode] | false | null | undefined | '' | 0)[] }) {
  return (
    <dl className="facts">
      {items.filter((x): x is readonly [ReactNode, ReactNode] => Boolean(x)).map(([k, v], i) => (
        <div className="fact" key={i}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
