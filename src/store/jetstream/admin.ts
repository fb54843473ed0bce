/**
 * Stream administration of a JetStream namespace, docs/admin.md: the JetStream streams eventbench created
 * under the namespace (`<ns>-<category>`, `<ns>-_deadletters`, the hybrid backend's `<ns>-_outbox`), as
 * `nats stream ls|info|purge|rm` shows and changes them, plus one event stream `<category>-<id>` (one
 * subject). Nothing outside the namespace's `<ns>-` prefix is ever listed or touched.
 */
import { jetstreamManager, type JetStreamManager, type MsgRequest, type StreamInfo } from '@nats-io/jetstream';
import { CATEGORY_PATTERN, ConfigError, STREAM_NAME_PATTERN } from '../../core/event-store.ts';
import type { AdminOptions, EventStreamDetail, NamespaceListing, RemovalResult, StoreAdmin, StreamDetail, StreamSummary } from '../admin.ts';
import { connectNats } from './connection.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import { jetStreamNames } from './naming.ts';
import { HEADERS } from './publish-headers.ts';

/** Per-subject counts are asked for only up to this many subjects (the server sends them all in one reply). */
const MAX_SUBJECTS_LISTED = 10_000;

export async function openJetStreamAdmin(options: AdminOptions): Promise<StoreAdmin> {
  const names = jetStreamNames(options.namespace);
  const ns = names.namespace;
  const nc = await connectNats(options.natsUrl, `eventbench-admin-${ns}`);
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    await nc.close().catch(() => {});
    throw translateReadError(err);
  }
  let closed = false;

  function kindOf(name: string): StreamSummary['kind'] {
    if (name === names.deadLetterStream) return 'dead-letters';
    if (name === `${ns}-_outbox`) return 'relay';
    return 'category';
  }

  function summary(si: StreamInfo): StreamSummary {
    const kind = kindOf(si.config.name);
    const empty = si.state.messages === 0;
    return {
      name: si.config.name,
      kind,
      ...(kind === 'category' ? { category: si.config.name.slice(ns.length + 1) } : {}),
      streams: si.state.num_subjects ?? 0,
      events: si.state.messages,
      bytes: si.state.bytes,
      firstPosition: empty ? 0 : si.state.first_seq,
      lastPosition: empty ? 0 : si.state.last_seq,
      consumers: si.state.consumer_count,
      subjects: si.config.subjects ?? [],
      replicas: si.config.num_replicas,
      storage: String(si.config.storage),
    };
  }

  async function info(name: string, subjectsFilter?: string): Promise<StreamInfo | undefined> {
    try {
      return await jsm.streams.info(name, subjectsFilter ? { subjects_filter: subjectsFilter } : {});
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return undefined;
      throw translateReadError(err);
    }
  }

  async function listed(): Promise<StreamSummary[]> {
    const out: StreamSummary[] = [];
    try {
      for await (const si of jsm.streams.list(`${ns}.>`)) if (si.config.name.startsWith(`${ns}-`)) out.push(summary(si));
    } catch (err) {
      throw translateReadError(err);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * NAME as a JetStream stream of the namespace (`<ns>-...`), a category (`cases` for `<ns>-cases`), or an
   * event stream `<category>-<id>` (one subject of its category's stream). A JetStream stream name wins.
   */
  async function resolve(name: string): Promise<{ stream: StreamInfo } | { event: EventStreamDetail; jsStream: string; subject: string }> {
    if (name.startsWith(`${ns}-`)) {
      const si = await info(name);
      if (si) return { stream: si };
    }
    if (CATEGORY_PATTERN.test(name)) {
      const si = await info(names.categoryStream(name));
      if (si) return { stream: si };
    } else if (STREAM_NAME_PATTERN.test(name)) {
      const dash = name.indexOf('-');
      const category = name.slice(0, dash);
      const subject = names.subject(category, name.slice(dash + 1));
      const jsStream = names.categoryStream(category);
      const si = await info(jsStream, subject);
      const events = si?.state.subjects?.[subject] ?? 0;
      if (si && events > 0) {
        const last = await jsm.streams.getMessage(jsStream, { last_by_subj: subject }).catch(() => null);
        // The server's MSG.GET takes `next_by_subj` with a start sequence (nats.js types it for direct gets only).
        const first = await jsm.streams.getMessage(jsStream, { seq: 1, next_by_subj: subject } as unknown as MsgRequest).catch(() => null);
        const version = Number(last?.header?.get(HEADERS.version) ?? 0);
        return {
          jsStream,
          subject,
          event: { stream: name, events, lastVersion: version, firstPosition: first?.seq ?? 0, lastPosition: last?.seq ?? 0 },
        };
      }
    }
    const all = (await listed()).map((s) => s.name);
    throw new ConfigError(`no JetStream stream, category or event stream ${JSON.stringify(name)} in namespace ${ns}; there are: ${all.length > 0 ? all.join(', ') : 'none'}`);
  }

  const admin: StoreAdmin = {
    backend: 'jetstream',
    namespace: ns,
    async list(): Promise<NamespaceListing> {
      return { backend: 'jetstream', namespace: ns, streams: await listed(), tables: [] };
    },
    async info(name): Promise<StreamDetail> {
      const target = await resolve(name);
      if ('event' in target) return { eventStream: target.event, detail: { jetStreamStream: target.jsStream, subject: target.subject } };
      const si = target.stream;
      const consumers: string[] = [];
      for await (const ci of jsm.consumers.list(si.config.name)) consumers.push(ci.name);
      let largest: EventStreamDetail[] | undefined;
      if ((si.state.num_subjects ?? 0) > 0 && (si.state.num_subjects ?? 0) <= MAX_SUBJECTS_LISTED) {
        const withSubjects = await info(si.config.name, '>');
        largest = Object.entries(withSubjects?.state.subjects ?? {})
          .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
          .slice(0, 10)
          .map(([subject, events]) => ({ stream: names.streamOfSubject(subject) ?? subject, events, lastVersion: 0, firstPosition: 0, lastPosition: 0 }));
      }
      const c = si.config;
      return {
        summary: summary(si),
        ...(largest ? { largest } : {}),
        detail: {
          created: si.created,
          retention: c.retention,
          maxAgeMs: (c.max_age ?? 0) / 1e6,
          maxMsgs: c.max_msgs,
          maxBytes: c.max_bytes,
          discard: c.discard,
          duplicateWindowMs: (c.duplicate_window ?? 0) / 1e6,
          consumerNames: consumers,
          ...(si.cluster ? { cluster: { leader: si.cluster.leader, replicas: (si.cluster.replicas ?? []).map((r) => r.name) } } : {}),
        },
      };
    },
    async purge(name): Promise<RemovalResult> {
      const target = await resolve(name);
      try {
        if ('event' in target) {
          const r = await jsm.streams.purge(target.jsStream, { filter: target.subject });
          return { name, events: r.purged, removed: [] };
        }
        const r = await jsm.streams.purge(target.stream.config.name);
        return { name: target.stream.config.name, events: r.purged, removed: [] };
      } catch (err) {
        throw translateReadError(err);
      }
    },
    async remove(name): Promise<RemovalResult> {
      const target = await resolve(name);
      if ('event' in target) return admin.purge(name);
      const jsStream = target.stream.config.name;
      const consumers: string[] = [];
      try {
        for await (const ci of jsm.consumers.list(jsStream)) consumers.push(ci.name);
        await jsm.streams.delete(jsStream);
      } catch (err) {
        throw translateReadError(err);
      }
      return { name: jsStream, events: target.stream.state.messages, removed: [`stream ${jsStream}`, ...consumers.map((c) => `consumer ${c}`)] };
    },
    async close() {
      if (closed) return;
      closed = true;
      await nc.close().catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return admin.close();
    },
  };
  return admin;
}
