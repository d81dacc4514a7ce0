/** The events pane: Sesame's audit trail, oldest first, growing at the bottom as it happens. */
import { h } from './blocks.js';

const pad = (n) => String(n).padStart(2, '0');

function time(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function detailText(details) {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => {
      const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return `${k}: ${text.length > 80 ? `${text.slice(0, 79)}…` : text}`;
    })
    .join(' · ');
}

export function eventsPane() {
  const list = h('div', { className: 'events-list', 'data-testid': 'events-list' });
  const count = h('span', { className: 'events-count' });
  const root = h(
    'aside',
    { className: 'events', 'data-testid': 'events' },
    h('div', { className: 'events-head' }, h('strong', { text: 'Audit trail' }), count),
    list,
  );
  let signature = '';
  return {
    root,
    /** Redraws when the trail changed, keeping the reader's place unless they were at the bottom. */
    update(audit, names) {
      const next = JSON.stringify(audit);
      if (next === signature) return;
      signature = next;
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      const top = list.scrollTop;
      count.textContent = ` ${audit.length} event${audit.length === 1 ? '' : 's'}`;
      list.replaceChildren(
        ...(audit.length
          ? audit.map((e) =>
              h(
                'div',
                { className: `event action-${e.action.replace(/[^a-z0-9]+/gi, '-')}`, 'data-testid': 'event', 'data-action': e.action },
                h(
                  'div',
                  { className: 'event-line' },
                  h('span', { className: 'event-time', text: time(e.at) }),
                  h('span', { className: 'event-action', text: e.action }),
                  e.requestId ? h('span', { className: 'event-request', text: e.requestId }) : null,
                ),
                h('div', { className: 'event-by' }, `by ${names[e.actor] ?? e.actor}`, e.integration ? ` · ${e.integration}` : ''),
                e.details && Object.keys(e.details).length ? h('div', { className: 'event-details', text: detailText(e.details) }) : null,
              ),
            )
          : [h('div', { className: 'events-empty', text: 'Nothing yet. Type /access in a composer to begin.' })]),
      );
      list.scrollTop = atBottom ? list.scrollHeight : top;
    },
  };
}
