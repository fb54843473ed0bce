/**
 * A workload is data plus a seeded generator (OpenMessaging Benchmark's "workload file", in code):
 * it yields appends (stream, events, expected version) that runners feed to any EventStore.
 */
import type { ExpectedVersion, NewEvent } from '../core/event-store.ts';

export interface PlannedAppend {
  stream: string;
  events: NewEvent[];
  expectedVersion: ExpectedVersion;
}

export interface WorkloadGenerator {
  /** The next append. Deterministic for a given seed: same seed, same sequence, byte for byte. */
  next(): PlannedAppend;
}

export interface WorkloadOptions {
  seed: number;
  /** Streams to spread appends over, where the workload has a choice. */
  streams?: number;
}

export interface WorkloadModule {
  name: string;
  description: string;
  /** The stream category (a JetStream stream per category) this workload writes to. */
  category: string;
  /** Event types it emits (for metrics labels and schema checks). */
  eventTypes: readonly string[];
  create(options: WorkloadOptions): WorkloadGenerator;
  /** Throws a ConfigError naming the field when an event's data does not match its schema. */
  validate(event: NewEvent): void;
}
