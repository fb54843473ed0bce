/**
 * The `invoices` workload (docs/workloads.md, "Invoices"): `billing.invoice.issued | paid | cancelled` in
 * the `DomainEvent<T>` envelope of docs/envelope.md (id, type, timestamp, correlationId, causationId, aggregateId,
 * aggregateType `Invoice`, version, data), one stream per invoice (`invoice-inv_<id>`): an invoice is
 * issued (version 1), later paid or cancelled (version 2, expected version 1).
 *
 * Mix and sizes: 90 % of settled invoices are paid, 10 % cancelled; about 45 % of events settle an
 * open invoice; amounts log-normal around the design's example of 15,000 cents (assumptions, no published
 * figure). Data ~120 B (docs/workloads.md).
 */
import { z } from 'zod';
import { HexFormat, Random, weightedRecord } from '../core/random.ts';
import { isoDate, isoDay, pool, seededFaker, SimClock } from './common.ts';
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
  /** Minor units (cents), as the design's example (15000 = EUR 150.00). */
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

/** Open invoices kept for settlement (when full, a new one replaces slot n mod MAX_OPEN, as LiveSet does). */
const MAX_OPEN = 10_000;
/**
 * The open invoices as numbers in typed arrays, not objects and strings: ten thousand long-lived
 * objects survive every young-generation GC, which made GC half of the generation time (profiled).
 * Ids are kept as the random words they were drawn from and spelled out when the invoice settles.
 */
class OpenInvoices {
  size = 0;
  private overwrite = 0;
  /** Per slot 9 words: invoice id, correlation id, issuing event id (3 each). */
  private readonly words = new Uint32Array(MAX_OPEN * 9);
  private readonly serials = new Float64Array(MAX_OPEN);
  private readonly years = new Int32Array(MAX_OPEN);
  private readonly amounts = new Float64Array(MAX_OPEN);

  /** Stores an invoice; `words` holds its 9 id words. */
  add(words: Uint32Array, year: number, serial: number, amount: number): void {
    const slot = this.size < MAX_OPEN ? this.size++ : this.overwrite++ % MAX_OPEN;
    this.words.set(words, slot * 9);
    this.years[slot] = year;
    this.serials[slot] = serial;
    this.amounts[slot] = amount;
  }

  /** Removes and returns a random open invoice (the last one moves into its slot). */
  take(rng: Random): OpenInvoice | undefined {
    if (this.size === 0) return undefined;
    const i = Math.floor(rng.next() * this.size);
    const w = this.words;
    const inv: OpenInvoice = {
      id: INVOICE_ID.format(w, i * 9),
      number: invoiceNumberOf(this.years[i]!, this.serials[i]!),
      amount: this.amounts[i]!,
      correlationId: CORRELATION_ID.format(w, i * 9 + 3),
      issuedEventId: EVENT_ID.format(w, i * 9 + 6),
    };
    const last = --this.size;
    w.copyWithin(i * 9, last * 9, last * 9 + 9);
    this.years[i] = this.years[last]!;
    this.serials[i] = this.serials[last]!;
    this.amounts[i] = this.amounts[last]!;
    return inv;
  }
}

/** The ids as `Random.hex` would spell their words: `evt_` + 24, `inv_` and `corr_` + 20 hex digits. */
const EVENT_ID = new HexFormat('evt_', 24);
const INVOICE_ID = new HexFormat('inv_', 20);
const CORRELATION_ID = new HexFormat('corr_', 20);

/** The year of an ISO timestamp, from its first four digits. */
const yearOf = (iso: string): number =>
  (iso.charCodeAt(0) - 48) * 1000 + (iso.charCodeAt(1) - 48) * 100 + (iso.charCodeAt(2) - 48) * 10 + (iso.charCodeAt(3) - 48);
/**
 * `INV-<year>-<serial mod 10^6, six digits>`, spelled into reused character codes as `isoDate` does (the
 * template with `padStart` was a tenth of this generator's time, profiled 2026-12-05).
 */
const INVOICE_NUMBER_CODES = Array.from('INV-0000-000000', (c) => c.charCodeAt(0));
export const invoiceNumberOf = (year: number, serial: number): string => {
  if (!(year >= 1000 && year <= 9999 && Number.isInteger(year) && Number.isInteger(serial) && serial >= 0)) return `INV-${year}-${String(serial % 1_000_000).padStart(6, '0')}`;
  const c = INVOICE_NUMBER_CODES;
  // Whole numbers below 2^31 only (`| 0`), so the codes stay small integers (see `isoDate`).
  for (let i = 7, y = year | 0; i >= 4; i--, y = (y / 10) | 0) c[i] = 48 + (y % 10);
  for (let i = 14, n = serial % 1_000_000 | 0; i >= 9; i--, n = (n / 10) | 0) c[i] = 48 + (n % 10);
  return String.fromCharCode.apply(null, c);
};

export const invoicesWorkload: WorkloadModule = {
  name: 'invoices',
  description: 'Billing invoice events (docs/workloads.md): issued, then paid or cancelled with an expected version, ~0.1 kB data',
  category: 'invoice',
  eventTypes: Object.values(INVOICE_EVENT_TYPES),
  create({ seed }) {
    const rng = new Random(seed).fork('invoices');
    const faker = seededFaker(seed + 4);
    const customers = pool(1000, () => `cust_${faker.string.alphanumeric({ length: 12, casing: 'lower' })}`);
    const clock = new SimClock(rng, '2025-01-06T08:00:00.000Z', 1_000);
    const methods = weightedRecord(PAYMENT_METHODS);
    const open = new OpenInvoices();
    const words = new Uint32Array(9);
    let counter = 0;
    return {
      next(): PlannedAppend {
        const ms = clock.tick();
        const timestamp = isoDate(ms);
        // The event id: the three words rng.hex(24) would draw, kept as the words (an issued invoice's causation id).
        words[6] = rng.uint32();
        words[7] = rng.uint32();
        words[8] = rng.uint32();
        const id = EVENT_ID.format(words, 6);
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
        for (let k = 0; k < 3; k++) words[k] = rng.uint32();
        const amount = Math.max(100, Math.round(rng.logNormalWithMean(15_000, 0.8)));
        for (let k = 3; k < 6; k++) words[k] = rng.uint32();
        const year = yearOf(timestamp);
        open.add(words, year, counter, amount);
        const invoiceId = INVOICE_ID.format(words, 0);
        return {
          stream: `invoice-${invoiceId}`,
          events: [
            {
              id,
              type: INVOICE_EVENT_TYPES.issued,
              timestamp,
              correlationId: CORRELATION_ID.format(words, 3),
              aggregateId: invoiceId,
              aggregateType: 'Invoice',
              data: {
                invoiceNumber: invoiceNumberOf(year, counter),
                customerId: rng.pick(customers),
                amount,
                currency: 'EUR',
                dueDate: isoDay(ms + 30 * 86_400_000),
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
