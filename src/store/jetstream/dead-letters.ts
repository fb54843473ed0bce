/**
 * Reading dead letters: every subscription's go to the namespace's dead-letter stream, on the subject of
 * the subscription (or of its `deadLetter` destination); subscription.ts writes them.
 */
import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { DeadLetter } from '../../core/event-store.ts';
import { subjectToken } from '../../core/subjects.ts';
import { readOnce } from './cursor.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import type { JetStreamNames } from './naming.ts';

export async function readDeadLetters(
  deps: { js: JetStreamClient; jsm: JetStreamManager; names: JetStreamNames; readIdleMs: number },
  subscription: string,
): Promise<DeadLetter[]> {
  const subject = deps.names.deadLetterSubject(subjectToken(subscription, 'subscription'));
  const jsStream = deps.names.deadLetterStream;
  let last: StoredMsg | null;
  try {
    last = await deps.jsm.streams.getMessage(jsStream, { last_by_subj: subject });
  } catch (err) {
    if (apiCode(err) === JS_ERR.streamNotFound) return [];
    throw translateReadError(err);
  }
  if (!last) return [];
  const decoder = new TextDecoder();
  const out: DeadLetter[] = [];
  await readOnce(deps, { jsStream, filter: subject }, { startSeq: 1, stopSeq: last.seq, buffer: 1000, idleMs: deps.readIdleMs }, (m) => {
    out.push(JSON.parse(decoder.decode(m.data)) as DeadLetter);
    return true;
  });
  return out;
}
