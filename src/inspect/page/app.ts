/**
 * The inspector page's script (see html.ts): plain browser JavaScript, no framework, no build
 * step. It reads the server-sent events of `/events`, keeps the sessions in a Map and draws the
 * selected one: the statechart SVGs from `/charts/` with the active states marked by the class
 * `state-active` on their `state:<id>` groups, the instruction list and the message log with each
 * message's ReceptionStatus. Every value goes into the page as text, never as markup.
 *
 * Kept free of template literals so that it can live in this String.raw literal unchanged.
 */
export const APP_JS = String.raw`(() => {
  'use strict';
  const MAX_ROWS = 500;
  const FINAL = new Set(['SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED', 'VOID']);
  const sessions = new Map();
  const svgCache = new Map();
  let selected = null;
  let selectedInstruction = null;
  let selectedSeq = null;
  let listDirty = false;
  let detailDirty = false;
  let fullLog = false;
  let changedSeqs = new Set();
  let timer = null;

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const time = (iso) => (typeof iso === 'string' ? iso.slice(11, 23) : '');
  const shortId = (id) => (typeof id === 'string' ? id.slice(0, 8) : '');

  // ---- the model ----

  function store(header) {
    let s = sessions.get(header.key);
    if (!s) {
      s = { header: header, messages: new Map(), instructions: new Map() };
      sessions.set(header.key, s);
    }
    s.header = header;
    return s;
  }

  function reset(snapshot) {
    sessions.clear();
    for (const item of snapshot.sessions || []) {
      const s = store(item.header);
      for (const m of item.messages || []) s.messages.set(m.seq, m);
      for (const i of item.instructions || []) s.instructions.set(i.id, i);
    }
    if (selected !== null && !sessions.has(selected)) selected = null;
    listDirty = true;
    detailDirty = true;
    fullLog = true;
    schedule();
  }

  function apply(ops) {
    for (const op of ops) {
      if (op.op === 'drop') {
        sessions.delete(op.key);
        listDirty = true;
        if (op.key === selected) {
          selected = null;
          detailDirty = true;
          fullLog = true;
        }
        continue;
      }
      if (op.op === 'session') {
        store(op.header);
        listDirty = true;
        if (op.key === selected) detailDirty = true;
        continue;
      }
      const s = sessions.get(op.key);
      if (!s) continue;
      if (op.op === 'message') {
        s.messages.set(op.entry.seq, op.entry);
        while (s.messages.size > MAX_ROWS) s.messages.delete(s.messages.keys().next().value);
        if (op.key === selected) changedSeqs.add(op.entry.seq);
      } else if (op.op === 'instruction') {
        s.instructions.set(op.instruction.id, op.instruction);
        if (op.key === selected) detailDirty = true;
      }
    }
    schedule();
  }

  function schedule() {
    if (timer !== null) return;
    timer = setTimeout(render, 50);
  }

  // ---- the session list ----

  function sortedSessions() {
    return Array.from(sessions.values()).sort((a, b) => {
      const ca = a.header.closed ? 1 : 0;
      const cb = b.header.closed ? 1 : 0;
      if (ca !== cb) return ca - cb;
      return a.header.startedAt < b.header.startedAt ? -1 : a.header.startedAt > b.header.startedAt ? 1 : 0;
    });
  }

  function label(h) {
    return h.name || h.peer || h.key;
  }

  function renderList() {
    const ul = $('#sessions');
    ul.textContent = '';
    const all = sortedSessions();
    for (const s of all) {
      const h = s.header;
      const li = el('li');
      li.dataset.key = h.key;
      li.dataset.role = h.role;
      li.dataset.state = h.session.state;
      // The S2 version the session selected: sessions of both versions run side by side on one CEM.
      li.dataset.version = h.version || '';
      if (h.closed) li.classList.add('closed');
      if (h.key === selected) li.classList.add('selected');
      li.append(el('span', 'role role-' + h.role, h.role), el('span', 'name', label(h)));
      if (h.version) li.append(el('span', 'version', h.version));
      if (h.counts.refused > 0) li.append(el('span', 'badge-bad', ' ✗' + h.counts.refused));
      li.append(el('span', 'state', h.closed ? 'closed ' + h.closed.code + (h.closed.reason ? ' ' + h.closed.reason : '') : h.session.state));
      li.addEventListener('click', () => select(h.key));
      ul.append(li);
    }
    $('#session-count').textContent = all.length ? '(' + all.length + ')' : '';
    $('#no-sessions').hidden = all.length > 0;
  }

  function select(key) {
    if (selected === key) return;
    selected = key;
    selectedInstruction = null;
    selectedSeq = null;
    $('#body').hidden = true;
    history.replaceState(null, '', '#session=' + encodeURIComponent(key));
    listDirty = true;
    detailDirty = true;
    fullLog = true;
    schedule();
  }

  // ---- the selected session ----

  function fact(dl, name, value) {
    if (value === undefined || value === null || value === '') return;
    dl.append(el('dt', null, name), el('dd', null, value));
  }

  function renderFacts(s) {
    const h = s.header;
    $('#title').textContent = h.role + ' · ' + label(h);
    const dl = $('#facts');
    dl.textContent = '';
    fact(dl, 'role', h.role);
    fact(dl, 'peer', h.peer);
    fact(dl, 'session', h.sessionId || h.key);
    fact(dl, 'protocol version', h.version || '(handshake not done)');
    fact(dl, 'control type', h.controlType || 'NO_SELECTION');
    fact(dl, 'state', h.session.state);
    fact(dl, 'started', h.startedAt);
    fact(dl, 'messages', 'sent ' + h.counts.sent + ', received ' + h.counts.received + ', refused ' + h.counts.refused);
    if (h.closed) fact(dl, 'closed', h.closed.code + (h.closed.reason ? ' — ' + h.closed.reason : ''));
    if (!h.attached) fact(dl, 'note', 'seen through the inspect hook only: attach the session to log its messages');
    if (!h.inspected) fact(dl, 'note', 'no inspect hook: the control-type and instruction actors are not shown');
    const ol = $('#history');
    ol.textContent = '';
    for (const step of h.history) {
      const li = el('li', null, step.state);
      li.title = step.at;
      ol.append(li);
    }
    const reports = $('#reports');
    reports.textContent = '';
    for (const r of h.reports) reports.append(el('li', r.kind === 'violation' ? 'badge-bad' : null, time(r.at) + ' ' + r.kind + ': ' + r.detail));
  }

  function chartSvg(name) {
    if (!svgCache.has(name)) {
      const p = fetch('charts/' + encodeURIComponent(name) + '.svg')
        .then((r) => (r.ok ? r.text() : null))
        .then((text) => {
          if (!text) return null;
          const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
          const root = doc.documentElement;
          return root && root.nodeName === 'svg' ? root : null;
        })
        .catch(() => null);
      svgCache.set(name, p);
      p.then((svg) => {
        if (!svg) svgCache.delete(name);
      });
    }
    return svgCache.get(name);
  }

  function highlight(fig) {
    const view = fig._view;
    const active = new Set(view ? view.active.map((id) => 'state:' + id) : []);
    let count = 0;
    for (const g of fig.querySelectorAll('g[id^="state:"]')) {
      const on = active.has(g.id);
      g.classList.toggle('state-active', on);
      if (on) count++;
    }
    fig.dataset.highlighted = String(count);
    const key = Array.from(active).join(' ');
    if (fig.dataset.activeKey !== key) {
      fig.dataset.activeKey = key;
      centreActive(fig);
    }
  }

  // At full size the chart scrolls; keep the innermost active state in view when it changes.
  function centreActive(fig) {
    if (!fig.classList.contains('zoomed')) return;
    const all = fig.querySelectorAll('g.state-active');
    const target = all[all.length - 1];
    if (!target) return;
    const body = fig.querySelector('.chart-body');
    const b = body.getBoundingClientRect();
    const r = target.getBoundingClientRect();
    body.scrollLeft += r.left + r.width / 2 - (b.left + b.width / 2);
    body.scrollTop += r.top + r.height / 2 - (b.top + b.height / 2);
  }

  function showChart(id, view, note) {
    const fig = document.getElementById(id);
    fig._view = view;
    fig.hidden = !view && !note;
    fig.querySelector('.chart-state').textContent = view ? view.state + (view.status !== 'active' ? ' (' + view.status + ')' : '') : note || '';
    fig.dataset.state = view ? view.state : '';
    const body = fig.querySelector('.chart-body');
    if (!view || !view.chart) {
      body.textContent = '';
      fig.dataset.chart = '';
      return;
    }
    if (fig.dataset.chart === view.chart && body.firstChild) {
      highlight(fig);
      return;
    }
    fig.dataset.want = view.chart;
    chartSvg(view.chart).then((svg) => {
      if (fig.dataset.want !== view.chart) return;
      body.textContent = '';
      if (!svg) {
        body.append(el('p', 'muted', 'could not load the chart ' + view.chart));
        return;
      }
      body.append(document.importNode(svg, true));
      fig.dataset.chart = view.chart;
      highlight(fig);
    });
  }

  function chosenInstruction(s) {
    if (selectedInstruction !== null && s.instructions.has(selectedInstruction)) return s.instructions.get(selectedInstruction);
    let best = null;
    for (const i of s.instructions.values()) if (i.actor && (!best || (i.seq || 0) >= (best.seq || 0))) best = i;
    return best;
  }

  function renderCharts(s) {
    const h = s.header;
    showChart('chart-session', h.session);
    const ctNote = h.controlType && h.controlType !== 'NO_SELECTION' && h.controlType !== 'NOT_CONTROLABLE' && !h.closed ? (h.inspected ? 'starting…' : 'not inspected (no inspect hook)') : null;
    showChart('chart-controlType', h.controlTypeActor || null, ctNote);
    const instruction = chosenInstruction(s);
    showChart('chart-instruction', instruction && instruction.actor ? instruction.actor : null, null);
    if (instruction && instruction.actor) {
      document.getElementById('chart-instruction').querySelector('.chart-title').textContent = 'Instruction ' + shortId(instruction.id);
    }
  }

  function renderInstructions(s) {
    const tbody = $('#instructions tbody');
    tbody.textContent = '';
    const list = Array.from(s.instructions.values()).sort((a, b) => (b.seq || 0) - (a.seq || 0));
    const shown = chosenInstruction(s);
    for (const i of list) {
      const tr = el('tr');
      tr.dataset.id = i.id;
      tr.dataset.status = i.status || '';
      if (i.final || FINAL.has(i.status)) tr.classList.add('final');
      if (shown && shown.id === i.id) tr.classList.add('selected');
      tr.append(el('td', 'mono', shortId(i.id)), el('td', null, i.messageType), el('td', 'istatus status ' + (i.status === 'SUCCEEDED' ? 'status-OK' : FINAL.has(i.status) ? 'status-bad' : ''), i.status || '(no status yet)'), el('td', 'mono', i.actor ? i.actor.state : ''));
      tr.addEventListener('click', () => {
        selectedInstruction = i.id;
        detailDirty = true;
        schedule();
      });
      tbody.append(tr);
    }
    $('#instruction-count').textContent = '(' + list.length + ')';
  }

  function row(m) {
    const tr = el('tr');
    tr.dataset.seq = String(m.seq);
    tr.dataset.type = m.type;
    const isRs = m.type === 'ReceptionStatus';
    if (isRs) tr.classList.add('rs');
    if (isRs && typeof m.answers === 'number') tr.classList.add('paired');
    const bad = m.invalid || m.refused || (m.reception && m.reception.status !== 'OK') || (isRs && / (INVALID|TEMPORARY|PERMANENT)/.test(m.summary));
    if (bad) tr.classList.add('bad');
    if (m.seq === selectedSeq) tr.classList.add('selected');
    tr.append(el('td', 'mono', m.seq), el('td', 'mono', time(m.at)), el('td', 'dir ' + m.dir, m.dir === 'sent' ? '→' : '←'), el('td', null, m.summary));
    const rs = el('td', 'reception');
    if (isRs) {
      rs.textContent = typeof m.answers === 'number' ? 'answers #' + m.answers : 'answers no logged message';
    } else if (m.reception) {
      const span = el('span', 'status ' + (m.reception.status === 'OK' ? 'status-OK' : 'status-bad'), m.reception.status);
      span.dataset.status = m.reception.status;
      rs.dataset.status = m.reception.status;
      rs.dataset.by = String(m.reception.seq);
      rs.append(span, el('span', 'muted', ' #' + m.reception.seq));
      if (m.reception.label) rs.title = m.reception.label;
    } else {
      rs.append(el('span', 'status status-pending', '…'));
    }
    tr.append(rs);
    const problems = el('td', 'problem-cell');
    if (m.refused) {
      problems.append(el('span', 'status status-bad', m.refused.status), el('span', null, ' ' + m.refused.reason));
      if (m.refused.problems && m.refused.problems.length) {
        const ul = el('ul', 'problems');
        for (const p of m.refused.problems) ul.append(el('li', null, p.path + ' ' + p.message + (p.value !== undefined ? ' (got ' + p.value + ')' : '') + (p.rule ? ' [' + p.rule + ']' : '')));
        problems.append(ul);
      }
    }
    tr.append(problems);
    tr.addEventListener('click', () => showBody(m.seq));
    return tr;
  }

  function showBody(seq) {
    const s = sessions.get(selected);
    const m = s && s.messages.get(seq);
    if (!m) return;
    selectedSeq = seq;
    for (const tr of document.querySelectorAll('#log tr.selected')) tr.classList.remove('selected');
    const tr = document.querySelector('#log tr[data-seq="' + seq + '"]');
    if (tr) tr.classList.add('selected');
    let text = m.body;
    try {
      text = JSON.stringify(JSON.parse(m.body), null, 2);
    } catch (e) {
      text = m.body;
    }
    const pre = $('#body');
    pre.textContent = '#' + m.seq + ' ' + (m.dir === 'sent' ? 'sent' : 'received') + ' ' + m.at + '\n' + text;
    pre.hidden = false;
  }

  function renderLog(s) {
    const tbody = $('#log tbody');
    if (fullLog) {
      tbody.textContent = '';
      const all = Array.from(s.messages.values()).sort((a, b) => b.seq - a.seq);
      for (const m of all) tbody.append(row(m));
    } else {
      for (const seq of Array.from(changedSeqs).sort((a, b) => a - b)) {
        const m = s.messages.get(seq);
        if (!m) continue;
        const old = tbody.querySelector('tr[data-seq="' + seq + '"]');
        if (old) old.replaceWith(row(m));
        else tbody.prepend(row(m));
      }
      while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
    }
    $('#message-count').textContent = '(' + s.header.counts.sent + ' sent, ' + s.header.counts.received + ' received' + (s.messages.size < s.header.counts.sent + s.header.counts.received ? '; the last ' + s.messages.size + ' shown' : '') + ')';
    fullLog = false;
    changedSeqs = new Set();
  }

  function render() {
    timer = null;
    if (selected === null) {
      const wanted = decodeURIComponent((location.hash.match(/session=([^&]+)/) || [])[1] || '');
      const first = sessions.has(wanted) ? wanted : (sortedSessions().find((s) => s.header.role === 'CEM' && !s.header.closed) || sortedSessions()[0] || { header: {} }).header.key;
      if (first !== undefined) {
        selected = first;
        listDirty = true;
        detailDirty = true;
        fullLog = true;
      }
    }
    if (listDirty) renderList();
    listDirty = false;
    const s = selected === null ? undefined : sessions.get(selected);
    $('#detail').hidden = !s;
    if (!s) return;
    if (detailDirty) {
      renderFacts(s);
      renderCharts(s);
      renderInstructions(s);
      detailDirty = false;
    }
    if (fullLog || changedSeqs.size) renderLog(s);
  }

  // ---- wiring ----

  for (const fig of document.querySelectorAll('.chart')) {
    fig.querySelector('.chart-body').addEventListener('click', () => {
      fig.classList.toggle('zoomed');
      centreActive(fig);
    });
  }
  $('#show-rs').addEventListener('change', (e) => $('#log').classList.toggle('show-rs', e.target.checked));
  const status = $('#connection');
  const source = new EventSource('events');
  source.addEventListener('open', () => {
    status.dataset.state = 'open';
    status.textContent = 'live';
  });
  source.addEventListener('error', () => {
    status.dataset.state = 'closed';
    status.textContent = 'disconnected — retrying';
  });
  source.addEventListener('snapshot', (e) => reset(JSON.parse(e.data)));
  source.addEventListener('ops', (e) => apply(JSON.parse(e.data)));
})();
`;
