/**
 * The `domain-events` workload (docs/workloads.md, "Domain events"): commands and the domain events they
 * cause for three domains (sales/order, inventory/product, customer/customer).
 *
 * Subject algebra of docs/subject-algebra.md, carried in each event's `data.subject`:
 *   events   {env}.domain.{domain}.{aggregate}.{event_type}.{event_id}
 *   commands {env}.command.{domain}.{aggregate}.{action}
 * The envelope type is the subject without env and id (`domain.sales.order.created`,
 * `command.sales.order.create`), and each aggregate is one stream `cim-<domain>_<aggregate>_<uuid>`:
 * every step appends [command, event] with the aggregate's expected version, the event caused by the
 * command (causationId) and both correlated. `data` follows the design's example message: event_id /
 * command_id, aggregate_id, event_type (PascalCase, e.g. OrderCreated), timestamp, data.
 *
 * Mix: 35 % of steps start a new aggregate, the rest continue a live one (assumption, no published figure).
 */
import { z } from 'zod';
import { Random, weightedRecord } from '../core/random.ts';
import { isoDate, LiveSet, pool, seededFaker, SimClock } from './common.ts';
import { validatorFor, type SchemaMap } from './schema.ts';
import type { PlannedAppend, WorkloadModule } from './workload.ts';

export const CIM_ENVIRONMENT = 'dev';

type Payload = (rng: Random, ctx: Ctx) => Record<string, unknown>;
interface Ctx {
  names: string[];
  cities: string[];
  emails: string[];
}
interface StepDef {
  action: string;
  command: string;
  event: string;
  eventType: string;
  payload: Payload;
}
interface AggregateDef {
  domain: string;
  aggregate: string;
  create: StepDef;
  follow: StepDef[];
}

const step = (action: string, command: string, event: string, eventType: string, payload: Payload): StepDef => ({
  action,
  command,
  event,
  eventType,
  payload,
});

/** The domains of docs/streams-and-consumers.md (DOMAIN_SALES / INVENTORY / CUSTOMER streams) and their lifecycles. */
export const CIM_AGGREGATES: readonly AggregateDef[] = [
  {
    domain: 'sales',
    aggregate: 'order',
    create: step('create', 'CreateOrder', 'created', 'OrderCreated', (r) => ({
      customer_id: String(r.int(100, 99_999)),
      total: Math.round(r.logNormalWithMean(99.99, 0.8) * 100) / 100,
      currency: 'EUR',
      lines: r.int(1, 8),
    })),
    follow: [
      step('update', 'UpdateOrder', 'updated', 'OrderUpdated', (r) => ({ total: Math.round(r.logNormalWithMean(99.99, 0.8) * 100) / 100 })),
      step('ship', 'ShipOrder', 'shipped', 'OrderShipped', (r) => ({ carrier: r.pick(['PostNL', 'DHL', 'DPD']), tracking: `3S${r.hex(12).toUpperCase()}` })),
      step('cancel', 'CancelOrder', 'cancelled', 'OrderCancelled', (r) => ({ reason: r.pick(['customer_request', 'out_of_stock', 'payment_failed']) })),
    ],
  },
  {
    domain: 'inventory',
    aggregate: 'product',
    create: step('create', 'CreateProduct', 'created', 'ProductCreated', (r) => ({ sku: `SKU-${r.hex(8).toUpperCase()}`, stock: r.int(0, 500) })),
    follow: [
      step('adjust_stock', 'AdjustStock', 'stock_adjusted', 'StockAdjusted', (r) => ({ delta: r.int(-20, 50), reason: r.pick(['sale', 'delivery', 'count']) })),
      step('reprice', 'RepriceProduct', 'repriced', 'ProductRepriced', (r) => ({ price: Math.round(r.logNormalWithMean(25, 0.9) * 100) / 100 })),
    ],
  },
  {
    domain: 'customer',
    aggregate: 'customer',
    create: step('register', 'RegisterCustomer', 'registered', 'CustomerRegistered', (r, c) => ({
      name: r.pick(c.names),
      email: r.pick(c.emails),
      city: r.pick(c.cities),
    })),
    follow: [
      step('change_address', 'ChangeAddress', 'address_changed', 'AddressChanged', (r, c) => ({ city: r.pick(c.cities), postcode: `${r.int(1000, 9999)} ${r.hex(2).toUpperCase().replace(/[0-9]/g, 'A')}` })),
      step('verify', 'VerifyCustomer', 'verified', 'CustomerVerified', (r) => ({ method: r.pick(['idin', 'email', 'phone']) })),
    ],
  },
];

const EventBody = z.strictObject({
  subject: z.string().regex(/^[a-z]+\.domain\.[a-z_]+\.[a-z_]+\.[a-z_]+\.[0-9a-f-]{36}$/, 'must be {env}.domain.{domain}.{aggregate}.{event}.{id}'),
  event_id: z.uuid(),
  aggregate_id: z.uuid(),
  event_type: z.string().regex(/^[A-Z][A-Za-z]+$/, 'must be PascalCase, e.g. OrderCreated'),
  timestamp: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});
const CommandBody = z.strictObject({
  subject: z.string().regex(/^[a-z]+\.command\.[a-z_]+\.[a-z_]+\.[a-z_]+$/, 'must be {env}.command.{domain}.{aggregate}.{action}'),
  command_id: z.uuid(),
  aggregate_id: z.uuid(),
  command_type: z.string().regex(/^[A-Z][A-Za-z]+$/, 'must be PascalCase, e.g. CreateOrder'),
  timestamp: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});

export const CIM_SCHEMAS: SchemaMap = Object.fromEntries(
  CIM_AGGREGATES.flatMap((a) =>
    [a.create, ...a.follow].flatMap((s) => [
      [`domain.${a.domain}.${a.aggregate}.${s.event}`, EventBody],
      [`command.${a.domain}.${a.aggregate}.${s.action}`, CommandBody],
    ]),
  ),
);

/**
 * A step's texts that do not change from event to event, spelled once per aggregate kind: building them
 * with templates per event made four-part cons strings that JSON.stringify flattened again each time.
 */
interface StepText {
  commandType: string;
  eventType: string;
  commandSubject: string;
  /** The event subject up to its id: `{env}.domain.{domain}.{aggregate}.{event}.` */
  eventSubjectPrefix: string;
}
const STEP_TEXT = new Map<StepDef, StepText>(
  CIM_AGGREGATES.flatMap(({ domain, aggregate, create, follow }) =>
    [create, ...follow].map((s) => [
      s,
      {
        commandType: `command.${domain}.${aggregate}.${s.action}`,
        eventType: `domain.${domain}.${aggregate}.${s.event}`,
        commandSubject: `${CIM_ENVIRONMENT}.command.${domain}.${aggregate}.${s.action}`,
        eventSubjectPrefix: `${CIM_ENVIRONMENT}.domain.${domain}.${aggregate}.${s.event}.`,
      },
    ]),
  ),
);

interface LiveAggregate {
  def: AggregateDef;
  id: string;
  version: number;
  correlationId: string;
}

export const domainEventsWorkload: WorkloadModule = {
  name: 'domain-events',
  description: 'CIM commands and domain events (docs/subject-algebra.md): [command, event] per step, ~0.3 kB data each',
  category: 'cim',
  eventTypes: Object.keys(CIM_SCHEMAS),
  create({ seed }) {
    const rng = new Random(seed).fork('domain-events');
    const faker = seededFaker(seed + 3);
    const ctx: Ctx = {
      names: pool(200, () => faker.person.fullName()),
      cities: pool(100, () => faker.location.city()),
      emails: pool(200, () => faker.internet.email().toLowerCase()),
    };
    const clock = new SimClock(rng, '2025-01-06T08:00:00.000Z', 500);
    const aggregates = weightedRecord({ '0': 5, '1': 3, '2': 2 }); // orders most frequent: assumption
    const live = new LiveSet<LiveAggregate>();
    return {
      next(): PlannedAppend {
        const ms = clock.tick();
        const timestamp = isoDate(ms);
        let agg = live.size > 0 && rng.chance(0.65) ? live.pick(rng) : undefined;
        let s: StepDef;
        if (agg) {
          s = rng.pick(agg.def.follow);
        } else {
          const def = CIM_AGGREGATES[Number(aggregates.sample(rng))]!;
          agg = { def, id: rng.uuid(), version: 0, correlationId: rng.uuid() };
          live.add(agg);
          s = def.create;
        }
        const { domain, aggregate } = agg.def;
        const commandId = rng.uuid();
        const eventId = rng.uuid();
        const expectedVersion = agg.version === 0 ? ('no_stream' as const) : agg.version;
        agg.version += 2;
        const payload = s.payload(rng, ctx);
        const text = STEP_TEXT.get(s)!;
        return {
          stream: `cim-${domain}_${aggregate}_${agg.id}`,
          events: [
            {
              id: commandId,
              type: text.commandType,
              timestamp,
              correlationId: agg.correlationId,
              data: {
                subject: text.commandSubject,
                command_id: commandId,
                aggregate_id: agg.id,
                command_type: s.command,
                timestamp,
                data: payload,
              },
            },
            {
              id: eventId,
              type: text.eventType,
              timestamp,
              correlationId: agg.correlationId,
              causationId: commandId,
              data: {
                subject: text.eventSubjectPrefix + eventId,
                event_id: eventId,
                aggregate_id: agg.id,
                event_type: s.eventType,
                timestamp,
                data: payload,
              },
            },
          ],
          expectedVersion,
        };
      },
    };
  },
  validate: validatorFor(CIM_SCHEMAS),
};
