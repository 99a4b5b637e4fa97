/**
 * The API's answers as the app receives them, derived from the server's route contracts (src/http/contracts):
 * type-only imports, so nothing of the server reaches the bundle, and a field the server adds or renames shows up
 * here at compile time instead of as a blank cell.
 */

import type * as analytics from '../../http/contracts/analytics';
import type { WireOf } from '../../http/contracts/common';
import type * as connections from '../../http/contracts/connections';
import type * as dunning from '../../http/contracts/dunning';
import type * as dunningMessage from '../../http/contracts/dunning-message';
import type * as imports from '../../http/contracts/imports';
import type * as ledger from '../../http/contracts/ledger';
import type * as lists from '../../http/contracts/lists';
import type * as risk from '../../http/contracts/risk';
import type * as session from '../../http/contracts/session';
import type * as users from '../../http/contracts/users';

export type TenantView = WireOf<typeof ledger.tenantView>;
export type CustomerDetailAnswer = WireOf<typeof ledger.customerDetail>;
export type SyncRunRecord = WireOf<typeof imports.syncRunRecord>;
export type ImportResult = WireOf<typeof imports.importResult>;

export type InvoiceListItem = WireOf<typeof lists.invoiceListItem>;
export type InvoiceListAnswer = WireOf<typeof lists.invoiceList>;
export type CustomerListRow = WireOf<typeof lists.customerListRow>;
export type CustomerListAnswer = WireOf<typeof lists.customerList>;
export type MessageListItem = WireOf<typeof lists.messageListItem>;
export type TaskListItem = WireOf<typeof lists.taskListItem>;
export type BulkResult = WireOf<typeof lists.bulkResult>;

export type DunningMessageView = WireOf<typeof dunningMessage.dunningMessageView>;
export type RenderedEmailAnswer = Exclude<WireOf<(typeof dunning.renderedMessage.response)[200]>, string>;
export type GoLiveAnswer = WireOf<typeof dunning.goLiveStatus>;
export type SendingTodayAnswer = WireOf<typeof dunning.sendingTodayBody>;

export type AnalyticsAnswer = WireOf<typeof analytics.analyticsBody>;
export type ForecastWeekAnswer = WireOf<typeof analytics.forecastWeek>;

export type PredictionRow = WireOf<typeof risk.predictionRow>;
export type CustomerRiskAnswer = WireOf<typeof risk.customerRiskView>;
export type CustomerRiskListRow = WireOf<(typeof risk.listCustomerRisk.response)[200]>['items'][number];
export type SettingsAnswer = WireOf<typeof risk.settingsView>;

export type SessionAnswer = WireOf<typeof session.sessionInfo>;
export type UserView = WireOf<typeof users.userView>;

export type ConnectionAnswer = WireOf<typeof connections.connectionView>;
export type ConnectionRunAnswer = WireOf<typeof connections.connectionRun>;
export type ConnectionCreatedAnswer = WireOf<typeof connections.connectionCreated>;
export type DisconnectAnswer = WireOf<typeof connections.disconnectResult>;
export type PingSecretAnswer = WireOf<(typeof connections.pingSecret.response)[200]>;
export type ConnectorAvailabilityAnswer = WireOf<typeof connections.connectorAvailability>;
export type IntegrationsAnswer = WireOf<typeof connections.integrations>;
