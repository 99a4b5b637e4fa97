import { describe, expect, it } from 'vitest';
import { fromHeader } from '../../src/dunning/compose-email';
import type { Services } from '../../src/services';

const services = (MAIL_FROM?: string) => ({ config: { MAIL_FROM } }) as unknown as Services;
const tenant = (sender?: object) => ({ name: 'Acme', settings: sender ? { sender } : {} }) as never;

describe('fromHeader', () => {
  it('keeps MAIL_FROM as configured until the tenant sets its sender identity', () => {
    expect(fromHeader(tenant(), services('Acme Billing <billing@acme.example>'))).toBe(
      'Acme Billing <billing@acme.example>',
    );
    expect(fromHeader(tenant(), services(undefined))).toBeUndefined();
  });

  it("puts the tenant's company name on MAIL_FROM's address, quoted", () => {
    expect(
      fromHeader(tenant({ companyName: 'Northwind Traders' }), services('Duely <ar@duely.example>')),
    ).toBe('"Northwind Traders" <ar@duely.example>');
    expect(fromHeader(tenant({ companyName: 'Smith & Sons' }), services('ar@duely.example'))).toBe(
      '"Smith & Sons" <ar@duely.example>',
    );
  });

  it('cannot break out of the display name or the header', () => {
    expect(
      fromHeader(tenant({ companyName: 'Evil" <x@evil.example>\r\nBcc: a@b' }), services('ar@duely.example')),
    ).toBe('"Evil\\" Bcc:" <ar@duely.example>');
  });

  it('never shows another address as the sender: addresses and angle brackets leave the display name', () => {
    const from = (companyName: string) =>
      fromHeader(tenant({ companyName }), services('Duely <ar@duely.example>'));
    expect(from('PayPal <service@paypal.com>')).toBe('"PayPal" <ar@duely.example>');
    expect(from('service@paypal.com')).toBe('Duely <ar@duely.example>');
    expect(from('Cafe @ the Park')).toBe('"Cafe @ the Park" <ar@duely.example>');
  });
});
