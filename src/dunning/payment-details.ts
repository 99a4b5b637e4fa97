/**
 * How a debtor pays when an invoice carries no pay link of its own (tenants.settings.paymentDetails): a payment
 * page and/or bank details, shown in every reminder and statement under "How to pay".
 */
import { z } from 'zod';
import type { PaymentDetails } from '../../emails/email-props';
import type { Tenant } from '../db/queries/tenants';

export const paymentDetailsSchema = z
  .object({
    url: z
      .string()
      .trim()
      .pipe(z.url({ protocol: /^https$/, message: 'an https:// address of your payment page' }))
      .optional(),
    instructions: z
      .string()
      .trim()
      .min(1, 'the payment instructions are empty')
      .max(1000, 'the payment instructions are longer than 1000 characters')
      .optional(),
  })
  .strict()
  .refine((p) => p.url !== undefined || p.instructions !== undefined, {
    message: 'give a payment page address, bank details, or both',
  });

/** The tenant's payment details, or undefined when none are set. */
export function paymentDetailsOf(tenant: Pick<Tenant, 'settings'>): PaymentDetails | undefined {
  const r = paymentDetailsSchema.safeParse(tenant.settings.paymentDetails);
  return r.success ? r.data : undefined;
}
