/**
 * Where a contract stream lives in JetStream (its subject and JetStream stream), and its tip: the last
 * (version, sequence) of its subject, as the server says or as this process last saw it.
 */
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { parseStreamName, type StreamName } from '../../core/validate.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import type { JetStreamNames } from './naming.ts';
import { HEADERS } from './publish-headers.ts';

/** Streams whose ref and tip hint are kept; the cache is cleared beyond this (it is only a hint). */
export const REF_CACHE_LIMIT = 200_000;

export interface Tip {
  version: number;
  seq: number;
}
export const EMPTY_TIP: Tip = { version: 0, seq: 0 };

export interface StreamRef {
  /** The contract stream name, validated and split. */
  name: StreamName;
  category: string;
  subject: string;
  jsStream: string;
  /**
   * The subject's last (version, seq) as this process last saw it: only a hint (the server judges every
   * append). Kept on the ref so an append costs one map lookup.
   */
  tip: Tip | undefined;
}

export interface StreamRefs {
  /**
   * Validated subject and JetStream stream of a contract stream name, memoised: building and checking
   * them costs ~5 us a call, a tenth of a whole pipelined publish here (measured with bench/jetstream-append.ts).
   */
  ref(stream: string): StreamRef;
  /** The subject's last (version, seq) as the server has it now; also kept as the ref's hint. */
  readTip(ref: StreamRef): Promise<Tip>;
}

export function createStreamRefs(jsm: JetStreamManager, names: JetStreamNames): StreamRefs {
  const refs = new Map<string, StreamRef>();
  return {
    ref(stream) {
      let ref = refs.get(stream);
      if (!ref) {
        const name = parseStreamName(stream);
        ref = { name, category: name.category, subject: names.subject(name.category, name.id), jsStream: names.categoryStream(name.category), tip: undefined };
        if (refs.size >= REF_CACHE_LIMIT) refs.clear();
        refs.set(stream, ref);
      }
      return ref;
    },

    async readTip(ref) {
      const { jsStream, subject } = ref;
      let msg: StoredMsg | null;
      try {
        msg = await jsm.streams.getMessage(jsStream, { last_by_subj: subject });
      } catch (err) {
        if (apiCode(err) === JS_ERR.streamNotFound) return EMPTY_TIP;
        throw translateReadError(err);
      }
      if (!msg) return EMPTY_TIP;
      const v = msg.header?.get(HEADERS.version);
      let tip: Tip;
      if (v) {
        tip = { version: Number(v), seq: msg.seq };
      } else {
        // A message published without our header (a foreign publisher): version = messages on the subject.
        const info = await jsm.streams.info(jsStream, { subjects_filter: subject }).catch((e) => Promise.reject(translateReadError(e)));
        tip = { version: info.state.subjects?.[subject] ?? 0, seq: msg.seq };
      }
      // Fresh from the server: the best hint for the next append (still only a hint).
      ref.tip = tip;
      return tip;
    },
  };
}
