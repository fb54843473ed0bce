/** The jetstream backend as the registry sees it before its module (and nats.js) is loaded. */
import type { BackendDescriptor } from '../backend.ts';
import { parseJetStreamSettings, type JetStreamSettings } from './settings.ts';

export const jetstreamDescriptor: BackendDescriptor<JetStreamSettings> = {
  name: 'jetstream',
  needs: { postgres: false, nats: true },
  sharedAcrossThreads: true,
  parseSettings: parseJetStreamSettings,
};
