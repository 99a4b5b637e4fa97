/**
 * QuickBooks stores no customer time zone; a US billing state is the best hint we have. Each state maps to the
 * zone most of its population lives in (a few states span two zones).
 */
export const US_STATE_TIMEZONES: Readonly<Record<string, string>> = {
  AL: 'America/Chicago', AK: 'America/Anchorage', AZ: 'America/Phoenix', AR: 'America/Chicago',
  CA: 'America/Los_Angeles', CO: 'America/Denver', CT: 'America/New_York', DE: 'America/New_York',
  DC: 'America/New_York', FL: 'America/New_York', GA: 'America/New_York', HI: 'Pacific/Honolulu',
  ID: 'America/Boise', IL: 'America/Chicago', IN: 'America/Indiana/Indianapolis', IA: 'America/Chicago',
  KS: 'America/Chicago', KY: 'America/New_York', LA: 'America/Chicago', ME: 'America/New_York',
  MD: 'America/New_York', MA: 'America/New_York', MI: 'America/Detroit', MN: 'America/Chicago',
  MS: 'America/Chicago', MO: 'America/Chicago', MT: 'America/Denver', NE: 'America/Chicago',
  NV: 'America/Los_Angeles', NH: 'America/New_York', NJ: 'America/New_York', NM: 'America/Denver',
  NY: 'America/New_York', NC: 'America/New_York', ND: 'America/Chicago', OH: 'America/New_York',
  OK: 'America/Chicago', OR: 'America/Los_Angeles', PA: 'America/New_York', RI: 'America/New_York',
  SC: 'America/New_York', SD: 'America/Chicago', TN: 'America/Chicago', TX: 'America/Chicago',
  UT: 'America/Denver', VT: 'America/New_York', VA: 'America/New_York', WA: 'America/Los_Angeles',
  WV: 'America/New_York', WI: 'America/Chicago', WY: 'America/Denver', PR: 'America/Puerto_Rico',
};

/** Free-text country names QuickBooks users type, to ISO 3166-1 alpha-2. */
const COUNTRY_ALIASES: Readonly<Record<string, string>> = {
  US: 'US', USA: 'US', 'UNITED STATES': 'US', 'UNITED STATES OF AMERICA': 'US', 'U.S.': 'US', 'U.S.A.': 'US',
  CA: 'CA', CAN: 'CA', CANADA: 'CA', UK: 'GB', GB: 'GB', GBR: 'GB', 'UNITED KINGDOM': 'GB', 'GREAT BRITAIN': 'GB',
  AU: 'AU', AUS: 'AU', AUSTRALIA: 'AU', IN: 'IN', IND: 'IN', INDIA: 'IN', FR: 'FR', FRANCE: 'FR',
  DE: 'DE', GERMANY: 'DE', MX: 'MX', MEXICO: 'MX', IE: 'IE', IRELAND: 'IE', NZ: 'NZ', 'NEW ZEALAND': 'NZ',
};

export function countryCode(value: string | null | undefined): string | null {
  if (!value) return null;
  return COUNTRY_ALIASES[value.trim().toUpperCase()] ?? null;
}
