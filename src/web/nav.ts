/**
 * The navigation registry: one entry per page, in menu order. Adding a page = adding its component under pages/
 * and one entry here (and `hidden` pages, like Customer, are routable but not in the menu).
 *
 * Dunning pages (Sequences, Approvals, Messages) sit before Settings; their shared pieces are in
 * components/dunning.tsx. No placeholder entries: a page appears only when it works.
 */
import type { ComponentType } from 'react';
import type { RouteDef } from './lib/router';
import type { PageProps } from './page-props';
import { ApprovalsPage } from './pages/Approvals';
import { CallsPage } from './pages/Calls';
import { ConnectionsPage } from './pages/Connections';
import { CustomerPage } from './pages/Customer';
import { CustomersPage } from './pages/Customers';
import { DashboardPage } from './pages/Dashboard';
import { InvoicesPage } from './pages/Invoices';
import { MessagesPage } from './pages/Messages';
import { SequencesPage } from './pages/Sequences';
import { SettingsPage } from './pages/Settings';

export type { PageProps };

export interface NavEntry extends RouteDef {
  label: string;
  component: ComponentType<PageProps>;
  /** Routable but not listed in the menu. */
  hidden?: boolean;
}

export const navEntries: NavEntry[] = [
  { name: 'dashboard', label: 'Dashboard', pattern: '/', component: DashboardPage },
  { name: 'invoices', label: 'Invoices', pattern: '/invoices', component: InvoicesPage },
  { name: 'customers', label: 'Customers', pattern: '/customers', component: CustomersPage },
  { name: 'customer', label: 'Customer', pattern: '/customers/:customer', component: CustomerPage, hidden: true },
  { name: 'connections', label: 'Connections', pattern: '/connections', component: ConnectionsPage },
  // Dunning pages (extension point).
  { name: 'sequences', label: 'Sequences', pattern: '/sequences', component: SequencesPage },
  { name: 'approvals', label: 'Approvals', pattern: '/approvals', component: ApprovalsPage },
  { name: 'calls', label: 'Call list', pattern: '/calls', component: CallsPage },
  { name: 'messages', label: 'Messages', pattern: '/messages', component: MessagesPage },
  { name: 'settings', label: 'Settings', pattern: '/settings', component: SettingsPage },
];
