// Tollgate dashboard: a thin client of the JSON API. It keeps the user's API
// key in sessionStorage only, sends it as a bearer token, and shows money
// exactly as the API returns it (decimal strings, never parsed to numbers).
// Every value from the API reaches the page through textContent, never as
// HTML. One file on purpose (about 600 lines): there is no build step or
// module loader, and the sections below follow the views one by one.
'use strict';

(() => {
  const KEY_STORE = 'tollgate.apiKey';
  const REFRESH_MS = 4000;
  const STATUSES = ['collecting', 'computing', 'awaiting_approval', 'posting', 'paying', 'completed',
    'rejected', 'payout_failed', 'needs_attention', 'cancelled'];
  const VIEWS = ['overview', 'cycles', 'cycle', 'dead-letters'];

  const state = {
    key: '',
    timer: 0,
    busy: false,
    route: { view: 'overview', id: '' },
    cycle: null, // the cycle shown in the detail view
    cancelArmed: 0,
  };
  const shown = new WeakMap(); // container -> JSON of what it shows

  const $ = (id) => document.getElementById(id);

  // el builds an element; strings and numbers become text nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  // put redraws a container only when its data changed, so a refresh does
  // not wipe what the user is typing or has selected inside it.
  function put(container, data, build) {
    const json = JSON.stringify(data);
    if (shown.get(container) === json) return;
    shown.set(container, json);
    container.replaceChildren(build(data));
  }

  function forget(container) {
    shown.delete(container);
  }

  function say(node, text, kind) {
    node.textContent = text || '';
    node.classList.toggle('error', kind === 'error');
    node.classList.toggle('ok', kind === 'ok');
  }

  // ---- API ----------------------------------------------------------------

  class APIError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + state.key, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new APIError(0, 'The API did not answer (' + e.message + ').');
    }
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      const p = data || {};
      const detail = p.detail || p.title || 'HTTP ' + resp.status;
      throw new APIError(resp.status, detail);
    }
    return data;
  }

  // A 401 means the key is gone (revoked, expired, mistyped): back to the
  // sign-in box with the server's reason.
  function handle(err, node) {
    if (err instanceof APIError && err.status === 401 && state.key) {
      signOut('Signed out: ' + err.message);
      return;
    }
    say(node, err.message, 'error');
  }

  // ---- formatting ---------------------------------------------------------

  function fmtTime(s) {
    if (!s) return '—';
    const d = new Date(s);
    if (isNaN(d.getTime())) return s;
    return d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  }

  function money(amount, currency) {
    if (amount === undefined || amount === null || amount === '') return '—';
    return el('span', { class: 'money' }, amount, currency ? el('span', { class: 'ccy' }, ' ' + currency) : null);
  }

  function badge(status) {
    return el('span', { class: 'badge s-' + status, 'data-status': status }, status.replace(/_/g, ' '));
  }

  function table(headers, rows, empty) {
    if (!rows.length) return el('p', { class: 'muted' }, empty || 'None.');
    return el('table', {},
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', { class: h.num ? 'num' : null }, h.label || h)))),
      el('tbody', {}, rows));
  }

  function facts(pairs) {
    return el('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  function cycleLink(id) {
    return el('a', { href: '#/cycles/' + encodeURIComponent(id), class: 'mono' }, id);
  }

  // ---- sign-in ------------------------------------------------------------

  function keyLabel(key) {
    // tg_<id>_<secret>: the id is not secret and names the key.
    const parts = key.split('_');
    return parts.length >= 3 && parts[0] === 'tg' ? 'key tg_' + parts[1] : 'token';
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('signin-key');
    const key = input.value.trim();
    if (!key) return;
    state.key = key;
    $('signin-submit').disabled = true;
    say($('signin-error'), '');
    try {
      await api('GET', '/v1/kpis');
    } catch (err) {
      state.key = '';
      const why = err.status === 403 ? 'This key may not read the dashboard: ' + err.message : err.message;
      say($('signin-error'), why, 'error');
      return;
    } finally {
      $('signin-submit').disabled = false;
    }
    input.value = '';
    sessionStorage.setItem(KEY_STORE, key);
    start();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORE);
    state.key = '';
    state.cycle = null;
    clearInterval(state.timer);
    state.timer = 0;
    $('cycle-id').textContent = '';
    for (const id of ['kpis', 'contracts', 'cycles', 'start-contract', 'cycle-status', 'cycle-facts', 'cycle-statement', 'cycle-fx',
      'cycle-approvals', 'cycle-anomalies', 'cycle-payout', 'cycle-timeline', 'cycle-ledger', 'dead-letters']) {
      $(id).replaceChildren();
      forget($(id));
    }
    for (const id of ['action-result', 'start-result', 'dead-letters-result', 'cycle-comment']) {
      if ($(id).tagName === 'INPUT') $(id).value = '';
      else say($(id), '');
    }
    $('app').hidden = true;
    $('nav').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
    say($('signin-error'), typeof message === 'string' ? message : '', typeof message === 'string' ? 'error' : '');
    $('signin-key').focus();
  }

  function start() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('nav').hidden = false;
    $('who').hidden = false;
    $('who-key').textContent = keyLabel(state.key);
    clearInterval(state.timer);
    state.timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
    route();
  }

  // ---- routing ------------------------------------------------------------

  function parseHash() {
    const h = location.hash.replace(/^#\/?/, '');
    if (h.startsWith('cycles/')) return { view: 'cycle', id: decodeURIComponent(h.slice('cycles/'.length)) };
    if (VIEWS.includes(h) && h !== 'cycle') return { view: h, id: '' };
    return { view: 'overview', id: '' };
  }

  function route() {
    if (!state.key) return;
    const next = parseHash();
    if (next.view === 'cycle' && next.id !== state.route.id) {
      state.cycle = null;
      state.cancelArmed = 0; // a confirmation belongs to the cycle it was asked for
      $('cycle-comment').value = '';
      say($('action-result'), '');
      for (const id of ['cycle-facts', 'cycle-statement', 'cycle-fx', 'cycle-approvals', 'cycle-anomalies',
        'cycle-payout', 'cycle-timeline', 'cycle-ledger']) {
        $(id).replaceChildren();
        forget($(id));
      }
      $('cycle-status').replaceChildren();
      forget($('cycle-status'));
    }
    if (next.view === 'cycle') $('cycle-id').textContent = next.id;
    state.route = next;
    for (const v of VIEWS) $('view-' + v).hidden = v !== next.view;
    for (const a of document.querySelectorAll('#nav a')) {
      const current = a.dataset.view === next.view || (next.view === 'cycle' && a.dataset.view === 'cycles');
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    refresh();
  }

  async function refresh() {
    if (!state.key || state.busy) return;
    state.busy = true;
    try {
      switch (state.route.view) {
        case 'overview': await loadOverview(); break;
        case 'cycles': await loadCycles(); break;
        case 'cycle': await loadCycle(state.route.id); break;
        case 'dead-letters': await loadDeadLetters(); break;
      }
    } finally {
      state.busy = false;
    }
  }

  // ---- overview: KPIs and contracts ---------------------------------------

  async function loadOverview() {
    const errNode = $('overview-error');
    try {
      const [k, contracts] = await Promise.all([api('GET', '/v1/kpis'), api('GET', '/v1/contracts?limit=100')]);
      const positions = await Promise.all(contracts.items.map((c) =>
        api('GET', '/v1/contracts/' + encodeURIComponent(c.id) + '/position').catch((e) => ({ error: e.message }))));
      say(errNode, '');
      $('kpi-window').textContent = fmtTime(k.from) + ' – ' + fmtTime(k.to);
      put($('kpis'), k, renderKPIs);
      const rows = contracts.items.map((c, i) => ({ c, p: positions[i] }));
      put($('contracts'), rows, renderContracts);
    } catch (err) {
      handle(err, errNode);
    }
  }

  function kpi(label, value, note, id) {
    return el('div', { class: 'kpi', id }, el('div', { class: 'kpi-label' }, label),
      el('div', { class: 'kpi-value' }, value), note ? el('div', { class: 'kpi-note muted' }, note) : null);
  }

  function renderKPIs(k) {
    const cycles = k.cycles || {};
    const settled = (k.settled || []).length
      ? el('ul', { class: 'plain' }, k.settled.map((s) => el('li', {}, money(s.total, s.currency),
        el('span', { class: 'muted small' }, ' · ' + s.cycles + (s.cycles === 1 ? ' cycle' : ' cycles')))))
      : el('span', { class: 'muted' }, 'nothing yet');
    const byStatus = Object.keys(cycles).sort().map((s) => el('li', {}, badge(s), ' ', String(cycles[s])));
    return el('div', { class: 'kpi-grid' },
      kpi('Settled', settled, 'completed cycles in the window', 'kpi-settled'),
      kpi('Awaiting approval', String(cycles.awaiting_approval || 0),
        k.oldest_awaiting_approval ? 'oldest since ' + fmtTime(k.oldest_awaiting_approval) : 'nothing waits', 'kpi-awaiting'),
      kpi('Active contracts', String(k.active_contracts), null, 'kpi-contracts'),
      kpi('Unsettled transactions', String(k.unsettled_transactions), 'ingested, not yet in a cycle', 'kpi-unsettled'),
      kpi('Open dead letters', String(k.open_dead_letters), null, 'kpi-dead-letters'),
      kpi('Cycles by status', byStatus.length ? el('ul', { class: 'plain' }, byStatus) : el('span', { class: 'muted' }, 'none'), null, 'kpi-cycles'));
  }

  function renderContracts(rows) {
    return table(['Contract', 'Operator → provider', 'Status', { label: 'Transactions', num: true },
      { label: 'Live position', num: true }, 'As of'],
    rows.map(({ c, p }) => el('tr', { 'data-contract': c.id },
      el('td', { class: 'mono' }, c.id),
      el('td', {}, c.operator_id + ' → ' + c.provider_id),
      el('td', {}, c.status),
      el('td', { class: 'num' }, p.error ? '—' : String(p.transactions)),
      el('td', { class: 'num position' }, p.error ? el('span', { class: 'error', title: p.error }, 'unavailable') : money(p.total, p.currency)),
      el('td', { class: 'small' }, p.error ? '' : fmtTime(p.as_of)))),
    'No contracts yet.');
  }

  // ---- cycles list and the start form -------------------------------------

  async function loadCycles() {
    const errNode = $('cycles-error');
    const status = $('cycles-status').value;
    try {
      const q = '/v1/cycles?limit=100' + (status ? '&status=' + encodeURIComponent(status) : '');
      const [cycles, contracts] = await Promise.all([api('GET', q), api('GET', '/v1/contracts?limit=100')]);
      if ($('cycles-status').value !== status) return; // the filter changed meanwhile
      say(errNode, '');
      put($('start-contract'), contracts.items.map((c) => c.id), renderContractOptions);
      put($('cycles'), cycles.items, renderCycles);
    } catch (err) {
      handle(err, errNode);
    }
  }

  function renderContractOptions(ids) {
    const sel = $('start-contract');
    const keep = sel.value;
    const frag = document.createDocumentFragment();
    if (!ids.length) frag.append(el('option', { value: '' }, 'no contracts'));
    for (const id of ids) frag.append(el('option', { value: id, selected: id === keep }, id));
    return frag;
  }

  function renderCycles(items) {
    return table(['Cycle', 'Contract', 'Period end', 'Status', { label: 'Total', num: true },
      { label: 'Transactions', num: true }, 'Updated'],
    items.map((c) => el('tr', { 'data-cycle': c.id },
      el('td', {}, cycleLink(c.id)),
      el('td', { class: 'mono' }, c.contract_id),
      el('td', {}, fmtTime(c.period_end)),
      el('td', { class: 'status' }, badge(c.status)),
      el('td', { class: 'num' }, c.statement ? money(c.statement.total, c.statement.currency) : '—'),
      el('td', { class: 'num' }, String(c.transactions)),
      el('td', { class: 'small' }, fmtTime(c.updated_at)))),
    'No cycles' + ($('cycles-status').value ? ' with this status.' : ' yet.'));
  }

  function utcMinuteNow() {
    return new Date().toISOString().slice(0, 16); // yyyy-mm-ddThh:mm, UTC
  }

  async function startCycle(event) {
    event.preventDefault();
    const result = $('start-result');
    const contract = $('start-contract').value;
    const end = $('start-period-end').value; // a UTC wall time, minutes only
    if (!contract || !end) {
      say(result, 'Choose a contract and a period end.', 'error');
      return;
    }
    $('start-submit').disabled = true;
    say(result, 'Starting…');
    try {
      const out = await api('POST', '/v1/cycles', { contract_id: contract, period_end: end.slice(0, 16) + ':00Z' });
      say(result, 'Cycle ' + out.cycle_id + ' is ' + out.status.replace(/_/g, ' ') + '.', 'ok');
      location.hash = '#/cycles/' + encodeURIComponent(out.cycle_id);
    } catch (err) {
      handle(err, result);
    } finally {
      $('start-submit').disabled = false;
    }
  }

  // ---- one cycle ----------------------------------------------------------

  async function loadCycle(id) {
    const errNode = $('cycle-error');
    try {
      const c = await api('GET', '/v1/cycles/' + encodeURIComponent(id));
      if (state.route.view !== 'cycle' || state.route.id !== id) return;
      let entries = null;
      if (c.ledger_entries.length) {
        entries = (await api('GET', '/v1/ledger/entries?cycle_id=' + encodeURIComponent(id) + '&limit=100')).items;
      }
      say(errNode, '');
      state.cycle = c;
      showCycle(c, entries);
    } catch (err) {
      handle(err, errNode);
    }
  }

  function showCycle(c, entries) {
    put($('cycle-status'), c.status, badge);
    put($('cycle-facts'), [c.contract_id, c.period_end, c.initiated_by, c.transactions, c.updated_at, c.error], () => facts([
      ['Contract', el('span', { class: 'mono' }, c.contract_id)],
      ['Period end', fmtTime(c.period_end)],
      ['Initiated by', c.initiated_by || '—'],
      ['Transactions', String(c.transactions)],
      ['Updated', fmtTime(c.updated_at)],
      c.error ? ['Error', el('span', { class: 'error' }, c.error)] : null,
    ]));
    put($('cycle-statement'), c.statement, renderStatement);
    put($('cycle-fx'), c.statement ? c.statement.fx : null, (fx) => table(['Currency', { label: 'Rate', num: true }, 'As of', 'Source'],
      (fx || []).map((f) => el('tr', {}, el('td', {}, f.currency), el('td', { class: 'num mono' }, f.rate),
        el('td', {}, fmtTime(f.as_of)), el('td', {}, f.source))), 'No conversions.'));
    put($('cycle-approvals'), c.approvals, (list) => table(['Who', 'Decision', 'Comment', 'When'],
      list.map((a) => el('tr', {}, el('td', {}, a.approver), el('td', {}, a.decision), el('td', {}, a.comment || ''),
        el('td', { class: 'small' }, fmtTime(a.at)))), 'No decisions yet.'));
    put($('cycle-anomalies'), c.anomalies, (list) => list.length
      ? el('ul', { class: 'anomalies' }, list.map((a) => el('li', {}, a)))
      : el('p', { class: 'muted' }, 'None found.'));
    put($('cycle-payout'), c.payout, (p) => facts([['Status', p.status || 'not yet'], ['Reference', p.reference || '—']]));
    put($('cycle-timeline'), c.timeline, (list) => list.length
      ? el('ol', { class: 'timeline' }, list.map((e) => el('li', {},
        el('span', { class: 'small muted' }, fmtTime(e.at)), ' ', el('strong', {}, e.event), e.detail ? ' — ' + e.detail : '')))
      : el('p', { class: 'muted' }, 'Nothing yet.'));
    put($('cycle-ledger'), { ids: c.ledger_entries, entries }, renderLedger);

    setActions(c.status);
  }

  // setActions enables the buttons that make sense in a status; the
  // workflow still decides, and its refusal is shown as it comes.
  function setActions(status) {
    const awaiting = status === 'awaiting_approval';
    $('act-approve').disabled = !awaiting;
    $('act-reject').disabled = !awaiting;
    $('act-retry').disabled = !(status === 'needs_attention' || status === 'payout_failed');
    // Cancel is possible only before approval or from payout_failed (after
    // the reversal); in needs_attention the server knows which it is.
    $('act-cancel').disabled = !(awaiting || status === 'needs_attention' || status === 'payout_failed');
  }

  function renderStatement(s) {
    if (!s) return el('p', { class: 'muted' }, 'Not computed yet.');
    const lines = table(['Line', { label: 'Basis', num: true }, { label: 'Rate', num: true }, { label: 'Amount', num: true }, 'Explanation'],
      s.lines.map((l) => el('tr', { 'data-line': l.type },
        el('td', {}, l.type.replace(/_/g, ' ')),
        el('td', { class: 'num mono' }, l.basis || '—'),
        el('td', { class: 'num mono' }, l.rate || '—'),
        el('td', { class: 'num' }, money(l.amount, s.currency)),
        el('td', { class: 'explain' }, l.explanation || ''))), 'No lines.');
    return el('div', {},
      facts([
        ['Net revenue', money(s.net_revenue, s.currency)],
        ['Carry in', money(s.carry_in, s.currency)],
        ['Carry out', money(s.carry_out, s.currency)],
        ['Transactions', String(s.transactions)],
      ]),
      lines,
      el('p', { class: 'total' }, 'Total ', el('span', { id: 'statement-total' }, money(s.total, s.currency)),
        el('span', { class: 'muted small' }, ' (positive: the operator pays the provider)')));
  }

  function renderLedger({ ids, entries }) {
    if (!ids.length) return el('p', { class: 'muted' }, 'Nothing posted yet.');
    if (!entries) return el('p', {}, 'Entries ' + ids.join(', '));
    const rows = [];
    for (const e of entries) {
      for (const p of e.postings || []) {
        rows.push(el('tr', {}, el('td', { class: 'mono' }, String(e.id)), el('td', {}, e.description || ''),
          el('td', {}, p.party_id), el('td', {}, p.purpose), el('td', { class: 'num' }, money(p.amount, p.currency)),
          el('td', { class: 'small' }, fmtTime(e.posted_at))));
      }
    }
    return table(['Entry', 'Description', 'Party', 'Account', { label: 'Amount', num: true }, 'Posted'], rows);
  }

  async function act(event) {
    const action = event.currentTarget.dataset.action;
    const c = state.cycle;
    const result = $('action-result');
    if (!c) return;
    const text = $('cycle-comment').value.trim();
    let body;
    if (action === 'reject') {
      if (!text) {
        say(result, 'Write the reason for the rejection in the comment box, then press Reject again.', 'error');
        $('cycle-comment').focus();
        return;
      }
      body = { reason: text };
    } else {
      body = text ? { comment: text } : {};
    }
    if (action === 'cancel' && Date.now() > state.cancelArmed) {
      state.cancelArmed = Date.now() + 5000;
      say(result, 'Press "Cancel cycle" again within 5 seconds to cancel ' + c.id + '.', 'error');
      return;
    }
    state.cancelArmed = 0;
    for (const b of document.querySelectorAll('.actions button')) b.disabled = true;
    say(result, 'Sending ' + action + '…');
    try {
      const out = await api('POST', '/v1/cycles/' + encodeURIComponent(c.id) + '/' + action, body);
      // The answer is the cycle as the workflow accepted the action; the
      // status it moves on to shows up with the refresh.
      const done = { approve: 'Approval recorded', reject: 'Rejection recorded', retry: 'Retry sent', cancel: 'Cancellation sent' };
      let msg = done[action];
      if (action === 'approve' && out.required) msg += ' (' + out.approvals + ' of ' + out.required + ' required)';
      say(result, msg + '.', 'ok');
      $('cycle-comment').value = '';
    } catch (err) {
      handle(err, result);
    }
    await refresh();
    if (state.cycle) setActions(state.cycle.status);
  }

  // ---- dead letters -------------------------------------------------------

  async function loadDeadLetters() {
    const errNode = $('dead-letters-error');
    try {
      const out = await api('GET', '/v1/dead-letters?status=open&limit=100');
      say(errNode, '');
      put($('dead-letters'), out.items, renderDeadLetters);
    } catch (err) {
      handle(err, errNode);
    }
  }

  function renderDeadLetters(items) {
    return table(['ID', 'Provider', 'External ID', 'Source', 'Reason', 'Error', 'Received', ''],
      items.map((d) => {
        const reason = el('input', { type: 'text', placeholder: 'reason to discard', 'aria-label': 'reason to discard ' + d.id, maxlength: 500 });
        return el('tr', { 'data-dead-letter': String(d.id) },
          el('td', { class: 'mono' }, String(d.id)),
          el('td', {}, d.provider_id || '—'),
          el('td', { class: 'mono' }, d.external_id || '—'),
          el('td', {}, d.source || ''),
          el('td', {}, d.reason || ''),
          el('td', { class: 'explain' }, d.error || ''),
          el('td', { class: 'small' }, fmtTime(d.created_at)),
          el('td', { class: 'row-actions' },
            el('button', { type: 'button', onclick: () => resolveDeadLetter(d.id, 'replay') }, 'Replay'),
            reason,
            el('button', { type: 'button', class: 'danger', onclick: () => resolveDeadLetter(d.id, 'discard', reason.value.trim()) }, 'Discard')));
      }), 'No open dead letters.');
  }

  async function resolveDeadLetter(id, action, reason) {
    const result = $('dead-letters-result');
    say(result, (action === 'replay' ? 'Replaying' : 'Discarding') + ' dead letter ' + id + '…');
    try {
      const out = await api('POST', '/v1/dead-letters/' + encodeURIComponent(id) + '/' + action,
        action === 'discard' && reason ? { reason } : undefined);
      if (action === 'replay') {
        // A row that fails again is dead-lettered again, as a new open row.
        const dl = out.dead_letter || {};
        const rejected = ((out.ingest || {}).rejected || []).map((r) => r.reason + (r.error ? ': ' + r.error : '')).join('; ');
        if (dl.status === 'replayed') say(result, 'Dead letter ' + id + ' replayed and ingested.', 'ok');
        else say(result, 'Dead letter ' + id + ' failed again' + (rejected ? ': ' + rejected : '') + '.', 'error');
      } else {
        say(result, 'Dead letter ' + id + ' discarded.', 'ok');
      }
    } catch (err) {
      handle(err, result);
    }
    await refresh();
  }

  // ---- wiring -------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    const statusSel = $('cycles-status');
    for (const s of STATUSES) statusSel.append(el('option', { value: s }, s.replace(/_/g, ' ')));
    statusSel.addEventListener('change', () => {
      forget($('cycles'));
      refresh();
    });
    $('start-period-end').value = utcMinuteNow();
    $('signin-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', () => signOut());
    $('start-form').addEventListener('submit', startCycle);
    for (const b of document.querySelectorAll('.actions button')) b.addEventListener('click', act);
    window.addEventListener('hashchange', route);

    state.key = sessionStorage.getItem(KEY_STORE) || '';
    if (state.key) start();
    else signOut();
  });
})();
