/**
 * Props shared by every template. Templates are pure (props → JSX) and receive everything already resolved:
 * balances net of partial payments and credits, links, the sender's identity. Dates are ISO calendar dates
 * (YYYY-MM-DD); money is integer minor units of `currency`.
 */
export type IsoDate = string;

export interface SenderIdentity {
  companyName: string;
  /** Where debtor replies go (the tenant's AR mailbox). */
  replyTo: string;
  /** Postal address lines, required in commercial email by CAN-SPAM and most EU rules. */
  address: string[];
  phone?: string;
}

export interface Debtor {
  name: string;
  /** Person to greet, when known; otherwise the company name is used. */
  contactName?: string;
  /** First invoice or account creation date; drives "customer since 2019". */
  customerSince?: IsoDate;
  /** Past punctuality, used only to add a kind sentence for reliable payers: nobody is told they are slow. */
  reliablePayer?: boolean;
  /**
   * The ledger knows the customer only by its account number (a CSV export has no names: `name` is the
   * customer_id): the email greets without it ("Hello,", never "Hi 140106181,").
   */
  nameIsAccountNumber?: boolean;
}

/** Whom an email greets: the contact, else the company; null when the only name known is an account number. */
export function greetingName(d: Debtor): string | null {
  if (d.contactName) return d.contactName;
  return d.nameIsAccountNumber ? null : d.name;
}

/** The greeting line: "Hi Acme Ltd," ("Hello Acme Ltd," with `word` Hello), or "Hello," when no name is known. */
export function greet(d: Debtor, word: 'Hi' | 'Hello' = 'Hi'): string {
  const name = greetingName(d);
  return name ? `${word} ${name},` : 'Hello,';
}

export interface InvoiceLine {
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  /** What is still owed after partial payments and applied credits. */
  openMinor: number;
  payLink?: string;
  /** A link to the invoice document itself (a PDF the host renders); only where the host provides one. */
  pdfLink?: string;
}

/**
 * An open invoice the email does not ask for, and says why (the planner's snapshot `held`): disputed, paused by the
 * team, or promised by a date. It is not in the table nor in any total; one calm sentence names it, so the debtor
 * does not read its absence as the dispute settled or the invoice forgotten.
 */
export interface HeldLine {
  number: string;
  currency: string;
  openMinor: number;
  hold: 'disputed' | 'paused' | 'promised';
  /** The date the debtor promised to pay by (hold 'promised'). */
  promisedDate?: IsoDate;
}

/** Locale and timezone of the debtor: all money and dates render in them. */
export interface Localization {
  locale: string;
  timezone: string;
  /** When the email was composed (ISO instant); its calendar day in `timezone` is the "as of" date. */
  generatedAt: string;
}

/** How to pay when an invoice has no pay link of its own (the tenant's Settings → Payment details). */
export interface PaymentDetails {
  /** A page where the debtor can pay (the tenant's payment portal). */
  url?: string;
  /** Bank details or other instructions, as plain text lines. */
  instructions?: string;
}

export interface BaseEmailProps extends Localization {
  sender: SenderIdentity;
  debtor: Debtor;
  unsubscribeUrl: string;
  paymentDetails?: PaymentDetails;
}
