// The live page and replay view of `eventbench serve` (docs/event-api.md §The viewer). Plain browser
// JavaScript, no build step: one page, two views and no library, so a bundler would only add a step.
const $ = (id) => document.getElementById(id);
const MAX_ROWS = 300;
const ICONS = { uploaded: '⬆', updated: '✎', deleted: '🗑' };

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function formatSize(bytes) {
  if (typeof bytes !== 'number') return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function shortType(type) {
  const t = String(type ?? '');
  return t.slice(t.lastIndexOf('.') + 1);
}

// ------------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------------

function show(view) {
  for (const tab of document.querySelectorAll('.tab')) tab.classList.toggle('active', tab.dataset.view === view);
  $('view-live').hidden = view !== 'live';
  $('view-replay').hidden = view !== 'replay';
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
}
for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => show(tab.dataset.view));
show(location.hash === '#replay' ? 'replay' : 'live');

// ------------------------------------------------------------------------------------------------
// Live: Server-Sent Events from /events/stream
// ------------------------------------------------------------------------------------------------

let filter = '';
const list = $('events');

function eventRow(e) {
  const doc = e.document ?? {};
  const type = shortType(e.eventType);
  const li = el('li', 'event');
  li.dataset.system = e.system ?? '';
  li.dataset.type = type;
  li.dataset.id = e.eventId ?? '';
  li.append(el('span', 'icon', ICONS[type] ?? '•'));
  const body = el('div');
  body.append(el('div', 'title', doc.title ?? e.eventId ?? '(untitled)'));
  const meta = el('div', 'meta', [e.system, doc.category, doc.author, formatSize(doc.size), doc.id && `id ${doc.id}`].filter(Boolean).join(' · '));
  body.append(meta);
  const tags = el('div');
  for (const t of doc.tags ?? []) tags.append(el('span', 'tag', t));
  body.append(tags);
  li.append(body);
  const time = el('div', 'time');
  time.append(el('div', '', type), el('div', '', e.timestamp ? new Date(e.timestamp).toLocaleString() : ''));
  if (doc.date) time.append(el('div', '', `uploaded ${new Date(doc.date).toLocaleDateString()}`));
  li.append(time);
  li.hidden = filter !== '' && e.system !== filter;
  return li;
}

function renderStats(stats) {
  $('stat-total').textContent = stats.total;
  $('stat-last24h').textContent = stats.last24h;
  for (const [id, counts] of [['stat-systems', stats.bySystem], ['stat-types', stats.byType]]) {
    const box = $(id);
    box.replaceChildren(
      ...Object.entries(counts).map(([k, n]) => {
        const row = el('div');
        row.dataset.key = k;
        row.append(el('span', '', k), el('strong', '', n));
        return row;
      }),
    );
  }
}

function updateShown() {
  const rows = list.children.length;
  const visible = [...list.children].filter((li) => !li.hidden).length;
  $('shown').textContent = `${visible} of the last ${rows} events shown`;
  $('empty').hidden = rows > 0;
}

$('system-filter').addEventListener('change', (ev) => {
  filter = ev.target.value;
  for (const li of list.children) li.hidden = filter !== '' && li.dataset.system !== filter;
  updateShown();
});

function setStatus(online) {
  $('status').classList.toggle('online', online);
  $('status').classList.toggle('offline', !online);
  $('status-text').textContent = online ? 'Live' : 'Offline';
}

let first = true;
const source = new EventSource('/events/stream');
source.onopen = () => {
  first = true;
  setStatus(true);
};
source.onerror = () => setStatus(false);
source.onmessage = (m) => {
  const { events, stats } = JSON.parse(m.data);
  if (first) {
    // The first message after (re)connecting: the most recent events, newest first.
    first = false;
    list.replaceChildren(...events.map(eventRow));
  } else {
    // Later messages: the events new since the last one, oldest first; the newest goes on top.
    for (const e of events) list.prepend(eventRow(e));
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
  }
  renderStats(stats);
  updateShown();
  setStatus(true);
};

// ------------------------------------------------------------------------------------------------
// Replay: pages of /replay, each event with the read model after it
// ------------------------------------------------------------------------------------------------

// `at`: an ISO time to seek to, until the first page has been fetched; then pages follow `next`.
const replay = { steps: [], next: 0, at: undefined, seeking: undefined, done: false, timer: undefined, loaded: false };

function message(text) {
  $('replay-message').textContent = text;
}

function table(id, counts) {
  $(id).replaceChildren(
    ...Object.entries(counts ?? {}).map(([k, n]) => {
      const tr = el('tr');
      tr.dataset.key = k;
      const cell = el('td', 'n', n);
      tr.append(el('td', '', k), cell);
      return tr;
    }),
  );
}

function replayQuery() {
  const kind = $('replay-kind').value;
  const name = $('replay-source').value.trim();
  return `${kind}=${encodeURIComponent(name)}`;
}

async function fetchPage() {
  const where = replay.at !== undefined ? `at=${encodeURIComponent(replay.at)}` : `from=${replay.next}`;
  const res = await fetch(`/replay?${replayQuery()}&${where}&limit=50`);
  const body = await res.json();
  if (!res.ok) throw new Error(body.message ?? res.statusText);
  replay.at = undefined;
  replay.steps.push(...body.steps);
  replay.done = body.done;
  replay.next = body.next;
  return body;
}

/** The time picked (datetime-local is the browser's local time), as an ISO time with its zone; undefined when empty. */
function pickedTime() {
  const value = $('replay-at').value;
  if (!value) return undefined;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** Seeks to the first event at or after the picked time: its page is fetched now, so the message can say where that is. */
async function seek(at) {
  replay.at = at;
  message(`Seeking the first event at or after ${at} …`);
  try {
    const body = await fetchPage();
    $('replay-position').textContent = body.from;
    message(
      body.seek?.position == null
        ? `No event at or after ${at} yet (end at position ${replay.next}): Step or Play to pick up events appended since.`
        : `Ready at position ${body.seek.position}, the first event at or after ${at}: Step or Play.`,
    );
  } catch (err) {
    message(`Replay failed: ${err.message}`);
  }
}

function reset() {
  pause();
  replay.steps = [];
  replay.next = Math.max(0, Number($('replay-from').value) || 0);
  replay.at = undefined;
  replay.done = false;
  replay.loaded = true;
  $('replay-position').textContent = replay.next;
  $('replay-applied').textContent = 0;
  $('replay-event').textContent = '–';
  $('replay-log').replaceChildren();
  table('rm-status', {});
  table('rm-decision', {});
  table('rm-types', {});
  const at = pickedTime();
  // Step and Play wait for the seek: its page is the first one.
  if (at !== undefined) return (replay.seeking = seek(at).finally(() => (replay.seeking = undefined)));
  message(`Ready at position ${replay.next}: Step or Play.`);
}

async function step() {
  if (!replay.loaded) await reset();
  if (replay.seeking) await replay.seeking;
  try {
    if (!replay.steps.length) await fetchPage();
  } catch (err) {
    pause();
    message(`Replay failed: ${err.message}`);
    return false;
  }
  const s = replay.steps.shift();
  if (!s) {
    pause();
    message(`End of what is stored (position ${replay.next}). Step or Play again to pick up events appended since.`);
    replay.done = false;
    return false;
  }
  $('replay-position').textContent = s.position;
  $('replay-applied').textContent = s.readModel.events;
  $('replay-event').textContent = `${s.type}\n${s.stream} v${s.version}\n${s.timestamp}`;
  table('rm-status', s.readModel.cases?.byStatus);
  table('rm-decision', s.readModel.cases?.byDecision);
  table('rm-types', s.readModel.byType);
  const li = el('li');
  li.append(el('span', 'meta', `#${s.position}`), el('span', '', `${s.type} · ${s.stream} v${s.version}`), el('span', 'time', s.timestamp));
  $('replay-log').prepend(li);
  while ($('replay-log').children.length > MAX_ROWS) $('replay-log').lastElementChild.remove();
  message(`Position ${s.position}.`);
  return true;
}

function pause() {
  clearTimeout(replay.timer);
  replay.timer = undefined;
  $('replay-play').disabled = false;
  $('replay-pause').disabled = true;
}

async function play() {
  $('replay-play').disabled = true;
  $('replay-pause').disabled = false;
  const tick = async () => {
    const speed = Math.min(1000, Math.max(0.5, Number($('replay-speed').value) || 1));
    const more = await step();
    if (more && !$('replay-pause').disabled) replay.timer = setTimeout(tick, 1000 / speed);
  };
  replay.timer = setTimeout(tick, 0);
}

$('replay-reset').addEventListener('click', () => void reset());
$('replay-step').addEventListener('click', () => void step());
$('replay-play').addEventListener('click', () => void play());
$('replay-pause').addEventListener('click', pause);
$('replay-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void reset();
});
for (const id of ['replay-kind', 'replay-source', 'replay-from', 'replay-at']) $(id).addEventListener('change', () => (replay.loaded = false));
