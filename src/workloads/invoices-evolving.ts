/**
 * The `invoices-evolving` workload (docs/hybrid.md §Event schema versions): payments received on invoices
 * while the payment event's schema evolves mid-run. Its one event type, `billing.payment.received`, has
 * three schema versions; the generator writes the first `legacyEvents` events at version 1 (as a writer not
 * yet redeployed would) and every later one at the current version 3, each stamped with its version in
 * `metadata.schemaVersion` (src/core/upcasting.ts). Readers see version 3 only: the upcasters below turn
 * version 1 into 2 into 3 on read (`readerView` in src/workloads/event-schemas.ts wraps a store and a consumer with them).
 *
 * The history (an assumption, written to be typical of such a change, no published figure):
 * - v1 `{ invoiceNumber, cents, receivedAt }`: the amount as integer cents, the currency implied (EUR);
 * - v2 `{ invoiceNumber, amount: { value, currency }, receivedAt }`: money as an object with its currency;
 * - v3 v2 plus `vat`, the VAT share of the amount; upcast from v2 at the Dutch standard rate of 21 %.
 *
 * One stream per invoice (`payment-inv_<id>`, `--streams` invoices, default 1000); an invoice can be paid in
 * parts, so appends do not check the stream version (`any`). Amounts log-normal around 15,000 cents, as the
 * `invoices` workload's (src/workloads/invoices.ts).
 */
import { z } from 'zod';
import type { NewEvent } from '../core/event-store.ts';
import { SCHEMA_VERSION_KEY, type Upcaster } from '../core/upcasting.ts';
import { HexFormat, Random } from '../core/random.ts';
import { isoDate, pool, SimClock } from './common.ts';
import { validatorForVersions } from './schema-versions.ts';
import type { PlannedAppend, WorkloadGenerator, WorkloadModule, WorkloadOptions } from './workload.ts';

/** Event ids as `evt_${rng.hex(24)}` spells them. */
const EVENT_ID = new HexFormat('evt_', 24);

export const PAYMENT_RECEIVED = 'billing.payment.received';

const invoiceNumber = z.string().regex(/^INV-\d{4}-\d{6}$/, 'must look like INV-2025-000123');
const money = z.strictObject({
  value: z.number().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
});
export const PaymentReceivedV1Schema = z.strictObject({
  invoiceNumber,
  /** Minor units (cents); the currency was implied (EUR). */
  cents: z.number().int().positive(),
  receivedAt: z.iso.datetime(),
});
export const PaymentReceivedV2Schema = z.strictObject({
  invoiceNumber,
  amount: money,
  receivedAt: z.iso.datetime(),
});
export const PaymentReceivedV3Schema = z.strictObject({
  invoiceNumber,
  amount: money,
  /** The VAT share of `amount.value`, in the same currency. */
  vat: z.number().nonnegative(),
  receivedAt: z.iso.datetime(),
});
type PaymentV1 = z.infer<typeof PaymentReceivedV1Schema>;
type PaymentV2 = z.infer<typeof PaymentReceivedV2Schema>;
type PaymentV3 = z.infer<typeof PaymentReceivedV3Schema>;

/** Every schema version of every type this workload writes, oldest first (index 0 = version 1). */
export const INVOICES_EVOLVING_VERSIONS = {
  [PAYMENT_RECEIVED]: [PaymentReceivedV1Schema, PaymentReceivedV2Schema, PaymentReceivedV3Schema],
} as const;

/** The current version of each type (what readers see, and `eventbench schemas export` writes as `<type>.json`). */
export const INVOICES_EVOLVING_SCHEMAS = {
  [PAYMENT_RECEIVED]: PaymentReceivedV3Schema,
};

/** The Dutch standard VAT rate, applied to payments recorded before `vat` existed (an assumption). */
const VAT_RATE = 0.21;
const vatOf = (value: number): number => Math.round(value * VAT_RATE * 100) / 100;

/** v1 -> v2 -> v3, one step each (createUpcasterChain checks there is no gap). */
export const INVOICES_EVOLVING_UPCASTERS = [
  {
    type: PAYMENT_RECEIVED,
    from: 1,
    upcast: (d: PaymentV1): PaymentV2 => ({ invoiceNumber: d.invoiceNumber, amount: { value: d.cents / 100, currency: 'EUR' }, receivedAt: d.receivedAt }),
  } satisfies Upcaster<PaymentV1, PaymentV2>,
  {
    type: PAYMENT_RECEIVED,
    from: 2,
    upcast: (d: PaymentV2): PaymentV3 => ({ invoiceNumber: d.invoiceNumber, amount: d.amount, vat: vatOf(d.amount.value), receivedAt: d.receivedAt }),
  } satisfies Upcaster<PaymentV2, PaymentV3>,
] as const satisfies readonly Upcaster<never, unknown>[];

/**
 * Events at version 1 per generator before it switches to the current version: a `load` at the default
 * 500/s crosses it after 2 s, inside the first measured seconds. bench/upcasting.ts sets its own.
 */
export const DEFAULT_LEGACY_EVENTS = 1000;

export interface EvolvingOptions extends WorkloadOptions {
  /** Events written at version 1 before the switch to the current version (default DEFAULT_LEGACY_EVENTS). */
  legacyEvents?: number;
}

export function createEvolvingPayments({ seed, streams = 1000, legacyEvents = DEFAULT_LEGACY_EVENTS }: EvolvingOptions): WorkloadGenerator {
  const rng = new Random(seed).fork('invoices-evolving');
  const clock = new SimClock(rng, '2025-03-03T08:00:00.000Z', 1_000);
  const invoices = pool(Math.max(1, streams), (i) => ({ id: `inv_${rng.hex(20)}`, number: `INV-2025-${String((i + 1) % 1_000_000).padStart(6, '0')}`, correlationId: `corr_${rng.hex(20)}` }));
  const current = INVOICES_EVOLVING_VERSIONS[PAYMENT_RECEIVED].length;
  let written = 0;
  return {
    next(): PlannedAppend {
      const ms = clock.tick();
      const receivedAt = isoDate(ms);
      const invoice = rng.pick(invoices);
      const cents = Math.max(100, Math.round(rng.logNormalWithMean(15_000, 0.8)));
      const legacy = written++ < legacyEvents;
      const data: PaymentV1 | PaymentV3 = legacy
        ? { invoiceNumber: invoice.number, cents, receivedAt }
        : { invoiceNumber: invoice.number, amount: { value: cents / 100, currency: 'EUR' }, vat: vatOf(cents / 100), receivedAt };
      const event: NewEvent = {
        id: rng.hexIn(EVENT_ID),
        type: PAYMENT_RECEIVED,
        timestamp: receivedAt,
        correlationId: invoice.correlationId,
        aggregateId: invoice.id,
        aggregateType: 'Invoice',
        data,
        metadata: { [SCHEMA_VERSION_KEY]: legacy ? 1 : current },
      };
      return { stream: `payment-${invoice.id}`, events: [event], expectedVersion: 'any' };
    },
  };
}

export const invoicesEvolvingWorkload: WorkloadModule = {
  name: 'invoices-evolving',
  description: `Invoice payments whose event schema evolves mid-run: the first ${DEFAULT_LEGACY_EVENTS} at version 1, then version 3; consumers see version 3 (upcasters)`,
  category: 'payment',
  eventTypes: [PAYMENT_RECEIVED],
  create: (options) => createEvolvingPayments(options),
  // Each event against the schema of the version it was written with (what is stored); a reader that
  // upcasts checks the current version only (readerView in event-schemas.ts).
  validate: validatorForVersions(INVOICES_EVOLVING_VERSIONS),
};
