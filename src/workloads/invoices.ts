/**
 * The `invoices` workload (seed 004): `billing.invoice.issued | paid | cancelled` in the seed's
 * `DomainEvent<T>` envelope (id, type, timestamp, correlationId, causationId, aggregateId,
 * aggregateType `Invoice`, version, data), one stream per invoice (`invoice-inv_<id>`): an invoice is
 * issued (version 1), later paid or cancelled (version 2, expected version 1).
 *
 * Mix and sizes: 90 % of settled invoices are paid, 10 % cancelled; about 45 % of events settle an
 * open invoice; amounts log-normal around the seed's example of 15,000 cents (assumptions, no published
 * figure). Data ~150 B.
 */
import { z } from 'zod';
import { Random, weightedRecord } from '../core/random.ts';
import { isoDate, LiveSet, pool, seededFaker, SimClock } from './common.ts';
import { validatorFor } from './schema.ts';
import type { PlannedAppend, WorkloadModule } from './workload.ts';

export const INVOICE_EVENT_TYPES = {
  issued: 'billing.invoice.issued',
  paid: 'billing.invoice.paid',
  cancelled: 'billing.invoice.cancelled',
} as const;

const invoiceNumber = z.string().regex(/^INV-\d{4}-\d{6}$/, 'must look like INV-2025-000123');
export const InvoiceIssuedSchema = z.strictObject({
  invoiceNumber,
  customerId: z.string().regex(/^cust_[0-9a-z]+$/, 'must look like cust_01hx...'),
  /** Minor units (cents), as the seed's example (15000 = EUR 150.00). */
  amount: z.number().int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  dueDate: z.iso.date(),
});
export const InvoicePaidSchema = z.strictObject({
  invoiceNumber,
  amount: z.number().int().positive(),
  paidAt: z.iso.datetime(),
  paymentMethod: z.enum(['ideal', 'sepa_direct_debit', 'bank_transfer', 'credit_card']),
});
export const InvoiceCancelledSchema = z.strictObject({
  invoiceNumber,
  reason: z.string().min(1).max(200),
});
export const INVOICE_SCHEMAS = {
  [INVOICE_EVENT_TYPES.issued]: InvoiceIssuedSchema,
  [INVOICE_EVENT_TYPES.paid]: InvoicePaidSchema,
  [INVOICE_EVENT_TYPES.cancelled]: InvoiceCancelledSchema,
};

const PAYMENT_METHODS = { ideal: 55, sepa_direct_debit: 25, bank_transfer: 15, credit_card: 5 } as const; // assumption
const CANCEL_REASONS = ['duplicate invoice', 'customer request', 'wrong amount', 'contract terminated'] as const;

interface OpenInvoice {
  id: string;
  number: string;
  amount: number;
  correlationId: string;
  issuedEventId: string;
}

export const invoicesWorkload: WorkloadModule = {
  name: 'invoices',
  description: 'Billing invoice events (seed 004): issued, then paid or cancelled with an expected version, ~0.4 kB',
  category: 'invoice',
  eventTypes: Object.values(INVOICE_EVENT_TYPES),
  create({ seed }) {
    const rng = new Random(seed).fork('invoices');
    const faker = seededFaker(seed + 4);
    const customers = pool(1000, () => `cust_${faker.string.alphanumeric({ length: 12, casing: 'lower' })}`);
    const clock = new SimClock(rng, '2025-01-06T08:00:00.000Z', 1_000);
    const methods = weightedRecord(PAYMENT_METHODS);
    const open = new LiveSet<OpenInvoice>();
    let counter = 0;
    return {
      next(): PlannedAppend {
        const ms = clock.tick();
        const timestamp = isoDate(ms);
        const id = `evt_${rng.hex(24)}`;
        const settle = open.size > 0 && rng.chance(0.45) ? open.take(rng) : undefined;
        if (settle) {
          const paid = rng.chance(0.9);
          return {
            stream: `invoice-${settle.id}`,
            events: [
              {
                id,
                type: paid ? INVOICE_EVENT_TYPES.paid : INVOICE_EVENT_TYPES.cancelled,
                timestamp,
                correlationId: settle.correlationId,
                causationId: settle.issuedEventId,
                aggregateId: settle.id,
                aggregateType: 'Invoice',
                data: paid
                  ? { invoiceNumber: settle.number, amount: settle.amount, paidAt: timestamp, paymentMethod: methods.sample(rng) }
                  : { invoiceNumber: settle.number, reason: rng.pick(CANCEL_REASONS) },
              },
            ],
            expectedVersion: 1,
          };
        }
        counter++;
        const inv: OpenInvoice = {
          id: `inv_${rng.hex(20)}`,
          number: `INV-${timestamp.slice(0, 4)}-${String(counter % 1_000_000).padStart(6, '0')}`,
          amount: Math.max(100, Math.round(rng.logNormalWithMean(15_000, 0.8))),
          correlationId: `corr_${rng.hex(20)}`,
          issuedEventId: id,
        };
        open.add(inv);
        return {
          stream: `invoice-${inv.id}`,
          events: [
            {
              id,
              type: INVOICE_EVENT_TYPES.issued,
              timestamp,
              correlationId: inv.correlationId,
              aggregateId: inv.id,
              aggregateType: 'Invoice',
              data: {
                invoiceNumber: inv.number,
                customerId: rng.pick(customers),
                amount: inv.amount,
                currency: 'EUR',
                dueDate: isoDate(ms + 30 * 86_400_000).slice(0, 10),
              },
            },
          ],
          expectedVersion: 'no_stream',
        };
      },
    };
  },
  validate: validatorFor(INVOICE_SCHEMAS),
};
