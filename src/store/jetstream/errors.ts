/**
 * The adapter's error boundary: nats.js errors in, the contract's typed errors out (driver error kept as
 * `cause`), so callers never parse messages.
 */
import { errors as natsErrors } from '@nats-io/transport-node';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import { OutcomeUnknownError, StoreUnavailableError, isEventStoreError } from '../../core/event-store.ts';

/** JetStream API error codes this adapter acts on (nats-server `errors.json`). */
export const JS_ERR = {
  wrongLastSequence: 10071,
  wrongLastMsgId: 10070,
  streamNotFound: 10059,
  streamNameInUse: 10058,
  consumerNotFound: 10014,
  replicasNotSupported: 10074,
  insufficientResources: 10023,
  subjectsOverlap: 10065,
} as const;

export function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/** nats.js turns "no responders" on a JetStream publish into JetStreamNotEnabled (not exported by the package). */
export function isNoStreamAnswered(err: unknown): boolean {
  return (err as Error)?.name === 'JetStreamNotEnabled';
}

function isConnectionProblem(err: unknown): boolean {
  return (
    err instanceof natsErrors.ClosedConnectionError ||
    err instanceof natsErrors.ConnectionError ||
    err instanceof natsErrors.DrainingConnectionError ||
    err instanceof natsErrors.NoRespondersError ||
    isNoStreamAnswered(err) ||
    (err instanceof natsErrors.RequestError && err.isNoResponders()) ||
    (err as { code?: string })?.code === 'ECONNREFUSED'
  );
}

function isTimeout(err: unknown): boolean {
  return err instanceof natsErrors.TimeoutError || (err instanceof natsErrors.RequestError && err.cause instanceof natsErrors.TimeoutError);
}

/**
 * For a publish: a timeout after the request left means the write may or may not have happened
 * (OutcomeUnknownError); no responders / connection closed mean it did not (StoreUnavailableError).
 */
export function translatePublishError(err: unknown, stream: string): Error {
  if (isEventStoreError(err)) return err;
  if (isTimeout(err)) return new OutcomeUnknownError(stream, 'no publish acknowledgement before the timeout: the event may or may not be stored', { cause: err });
  if (isConnectionProblem(err)) return new StoreUnavailableError(`NATS JetStream unavailable (${(err as Error).message})`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** For reads and admin calls: nothing is written, so a timeout is just "unavailable". */
export function translateReadError(err: unknown): Error {
  if (isEventStoreError(err)) return err;
  if (isTimeout(err) || isConnectionProblem(err)) {
    return new StoreUnavailableError(`NATS JetStream unavailable (${(err as Error).message})`, { cause: err });
  }
  if (err instanceof JetStreamError && /jetstream.*not enabled/i.test(err.message)) {
    return new StoreUnavailableError(`JetStream is not enabled on this server (${err.message})`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
