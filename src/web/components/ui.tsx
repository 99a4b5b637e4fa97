import type { ReactNode } from 'react';
import { onLinkClick } from '../lib/router';

export function Link(props: { href: string; children: ReactNode; className?: string; 'aria-current'?: 'page' }) {
  return (
    <a href={props.href} className={props.className} aria-current={props['aria-current']} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorBanner({ error }: { error: Error | null }) {
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert">
      {error.message}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

const statusTone: Record<string, string> = {
  open: 'info',
  paid: 'ok',
  void: 'muted',
  deleted: 'muted',
  succeeded: 'ok',
  running: 'info',
  failed: 'bad',
  active: 'ok',
  reconnect_needed: 'warn',
  disconnected: 'muted',
  high: 'bad',
  medium: 'warn',
  low: 'ok',
  overdue: 'bad',
};

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span className={`badge badge-${statusTone[value] ?? 'muted'}`}>{label ?? value.replace(/_/g, ' ')}</span>;
}

export function Card({ title, children, className }: { title?: string; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`} aria-label={title}>
      {title ? <h2 className="card-title">{title}</h2> : null}
      {children}
    </section>
  );
}
