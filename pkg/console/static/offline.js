// Offline lists for grid workers at the door (see pkg/console/offline.go).
// Plain script, no framework. It keeps in IndexedDB ("wanjia-offline"):
//   lists: the downloaded call/door lists and check-in list, by URL;
//   queue: what was recorded without a network, each with the idempotency
//          key it was given when tapped, until the server has stored it.
// Records are sent to the pages' own form endpoints with the session's
// CSRF token and the X-Wanjia-Offline header (JSON answers). A record sent
// twice (an answer lost on the way) carries the same key and is stored
// once. A refusal (the campaign closed, the case released) stays listed
// with its reason until the worker dismisses it: nothing goes silently.
'use strict';
(function () {
  var DB = 'wanjia-offline', CACHE = 'wanjia-offline', HDR = { 'X-Wanjia-Offline': '1' };
  var bar = document.getElementById('offline-bar');
  if (!bar || !window.indexedDB) return;
  var org = bar.dataset.org, T = JSON.parse(bar.dataset.t || '{}');
  var lists = JSON.parse(bar.dataset.lists || '[]');
  var shell = org + '/offline';
  var app = document.getElementById('offline-app');

  // --- IndexedDB, wrapped in promises ---
  var dbp;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (ok, ko) {
        var r = indexedDB.open(DB, 1);
        r.onupgradeneeded = function () {
          r.result.createObjectStore('lists', { keyPath: 'url' });
          r.result.createObjectStore('queue', { keyPath: 'key' });
        };
        r.onsuccess = function () { ok(r.result); };
        r.onerror = function () { ko(r.error); };
      });
    }
    return dbp;
  }
  function store(name, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, ko) {
        var t = d.transaction(name, mode), req = fn(t.objectStore(name));
        t.oncomplete = function () { ok(req && req.result); };
        t.onerror = function () { ko(t.error); };
      });
    });
  }
  function all(name) { return store(name, 'readonly', function (s) { return s.getAll(); }); }
  function put(name, v) { return store(name, 'readwrite', function (s) { return s.put(v); }); }
  function del(name, k) { return store(name, 'readwrite', function (s) { return s.delete(k); }); }

  // newKey is a fresh idempotency key: 128 random bits in hex.
  function newKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }

  // --- the badge and the refused records ---
  function show() {
    return all('queue').then(function (q) {
      var waiting = q.filter(function (i) { return i.status === 'waiting'; });
      var failed = q.filter(function (i) { return i.status === 'failed'; });
      var badge = document.getElementById('offline-badge');
      badge.textContent = T.waiting + ' ' + waiting.length;
      badge.dataset.n = waiting.length;
      badge.hidden = waiting.length === 0;
      var ul = document.getElementById('offline-failed');
      ul.textContent = '';
      failed.forEach(function (i) {
        var li = el('li', { 'class': 'error' }, T.failed + ' ' + i.label + ': ' + i.reason + ' ');
        var b = el('button', { type: 'button', 'class': 'link' }, T.dismiss);
        b.onclick = function () { del('queue', i.key).then(show); };
        li.appendChild(b);
        ul.appendChild(li);
      });
      if (app) draw(q);
    });
  }
  function say(text) { document.getElementById('offline-status').textContent = text; }

  // --- download: the shell and assets into the cache, the lists into IndexedDB ---
  function download() {
    var assets = [shell];
    document.querySelectorAll('link[rel=stylesheet],link[rel=prefetch],link[rel=manifest],script[src]').forEach(function (n) {
      assets.push(n.getAttribute('href') || n.getAttribute('src'));
    });
    var n = 0;
    return caches.open(CACHE).then(function (c) { return c.addAll(assets); }).then(function () {
      return Promise.all(lists.map(function (url) {
        return fetch(url, { headers: HDR, credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        }).then(function (data) {
          n += (data.tasks || data.cases || []).length;
          return put('lists', { url: url, org: org, data: data, at: Date.now() });
        });
      }));
    }).then(function () { say(T.downloaded.replace('{n}', n)); }, function () { say(T.error); });
  }

  // --- recording and sending ---
  function record(item) {
    item.status = 'waiting';
    item.at = Date.now();
    return put('queue', item).then(show).then(function () { if (navigator.onLine) sync(); });
  }

  var syncing = false, retry = null;
  function later() { clearTimeout(retry); retry = setTimeout(sync, 3000); }
  // sync sends what waits, four at a time, and stops at the first sign
  // that the network or the session is gone: the rest wait for the next.
  function sync() {
    if (syncing) return Promise.resolve();
    syncing = true;
    var stop = false;
    function done() { syncing = false; return show(); }
    return fetch(shell + '/session', { headers: HDR, credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (!r.ok) { say(T.signin); throw new Error('session'); }
      return r.json();
    }).then(function (s) {
      return all('queue').then(function (q) {
        var todo = q.filter(function (i) { return i.status === 'waiting'; }).sort(function (a, b) { return a.at - b.at; });
        function next() {
          var i = todo.shift();
          if (!i || stop) return Promise.resolve();
          return send(i, s.csrf).then(function (ok) { if (!ok) stop = true; return next(); });
        }
        return Promise.all([next(), next(), next(), next()]);
      });
    }).then(function () {
      if (stop) later(); else say('');
    }, function () { later(); }).then(done, done);
  }
  // send posts one record; false means keep it and stop for now.
  function send(i, csrf) {
    var body = new URLSearchParams(i.fields);
    body.set('csrf', csrf);
    return fetch(i.url, { method: 'POST', body: body, headers: HDR, credentials: 'same-origin', redirect: 'manual' }).then(function (r) {
      if (r.status === 200) return del('queue', i.key).then(function () { return true; });
      if (r.status === 401) { say(T.signin); return false; }
      if (r.status >= 400 && r.status < 500) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          if (b.signin) { say(T.signin); return false; } // a stale token: kept
          i.status = 'failed';
          i.reason = b.reason || String(r.status);
          return put('queue', i).then(function () { return true; });
        });
      }
      return false; // an outage (5xx) or a redirect: try again later
    }, function () { return false; });
  }

  // --- the shell: the downloaded lists, drawn from IndexedDB ---
  function draw(q) {
    all('lists').then(function (ls) {
      var pending = {};
      q.forEach(function (i) { pending[i.ref] = i; });
      app.textContent = '';
      ls = ls.filter(function (l) { return l.org === org; });
      if (!ls.length) app.appendChild(el('p', { 'class': 'empty' }, T.empty));
      ls.forEach(function (l) {
        if (l.data.tasks) drawTasks(l.data, pending);
        if (l.data.cases) drawCases(l.data, pending);
      });
    });
  }
  function drawTasks(d, pending) {
    var sc = d.screening;
    [[false, T.calls], [true, T.visits]].forEach(function (part) {
      var ts = d.tasks.filter(function (t) { return !!t.door === part[0]; });
      if (!ts.length) return;
      app.appendChild(el('h2', null, sc.name + ' · ' + part[1]));
      ts.forEach(function (t) {
        var card = el('section', { 'class': 'task offline-task', 'data-task': t.id });
        card.appendChild(el('h3', { 'class': 'address' }, t.address));
        if (t.phone) card.appendChild(t.tel ? el('a', { 'class': 'dial secondary', href: t.tel }, t.phone) : el('p', { 'class': 'phone' }, t.phone));
        if (t.members.length) {
          card.appendChild(el('p', { 'class': 'note' }, T.members + ': ' + t.members.map(function (m) { return m.name; }).join('、')));
        }
        t.last.forEach(function (a) {
          card.appendChild(el('p', { 'class': 'sub' }, a.date + ' ' + (T[a.method + '.' + a.outcome] || a.outcome)));
        });
        var p = pending['task:' + t.id];
        if (p) {
          card.appendChild(el('p', { 'class': 'notice', role: 'status' }, T.recorded + ' ' + p.label));
        } else {
          var method = t.door ? 'visit' : 'phone';
          var outcomes = ['reached', 'no_answer', 'wrong_number', 'refused', 'moved_out'].filter(function (o) {
            return method === 'phone' || o !== 'wrong_number';
          });
          var row = el('div', { 'class': 'outcomes' });
          outcomes.forEach(function (o) {
            var b = el('button', { type: 'button', 'class': o === 'reached' ? 'primary' : 'secondary', 'data-outcome': o }, T[method + '.' + o]);
            b.onclick = function () {
              var key = newKey();
              record({ key: key, ref: 'task:' + t.id, label: t.address + ' · ' + T[method + '.' + o],
                url: org + '/screenings/' + encodeURIComponent(sc.id) + '/tasks/' + encodeURIComponent(t.id) + '/attempts',
                fields: { idempotency_key: key, method: method, outcome: o, from: 'list' } });
            };
            row.appendChild(b);
          });
          card.appendChild(row);
        }
        app.appendChild(card);
      });
    });
  }
  function drawCases(d, pending) {
    app.appendChild(el('h2', null, T.checkins));
    d.cases.forEach(function (c) {
      var card = el('section', { 'class': 'task offline-case', 'data-case': c.id });
      card.appendChild(el('h3', null, c.name));
      card.appendChild(el('p', { 'class': 'sub' }, c.address + (c.checked ? ' · ' + T.checked : '')));
      var p = pending['case:' + c.id];
      if (p) {
        card.appendChild(el('p', { 'class': 'notice', role: 'status' }, T.recorded + ' ' + p.label));
      } else {
        var f = el('form', { 'class': 'form row' });
        var lab = el('label', null, T.temperature);
        var inp = el('input', { name: 'temperature', inputmode: 'decimal', required: '', maxlength: '5' });
        lab.appendChild(inp);
        f.appendChild(lab);
        f.appendChild(el('button', { type: 'submit', 'class': 'primary' }, T.checkin));
        f.onsubmit = function (e) {
          e.preventDefault();
          var key = newKey();
          record({ key: key, ref: 'case:' + c.id, label: c.name + ' · ' + inp.value + '°C',
            url: org + '/isolation/cases/' + encodeURIComponent(c.id) + '/checkins',
            fields: { idempotency_key: key, temperature: inp.value } });
        };
        card.appendChild(f);
      }
      app.appendChild(card);
    });
  }

  // --- wiring ---
  // The worker registers only on pages that offer the offline lists,
  // which only callers who may record get: never an official's.
  if (navigator.serviceWorker) navigator.serviceWorker.register('/console/sw.js', { scope: '/console/' });
  var dl = document.getElementById('offline-download');
  if (dl) dl.onclick = function () { download(); };
  // The online list's outcome form, tapped without a network: kept with
  // the key the page gave it, then the downloaded lists take over.
  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (navigator.onLine || !/\/attempts$/.test(f.getAttribute('action') || '')) return;
    e.preventDefault();
    var fields = {};
    new FormData(f).forEach(function (v, k) { if (k !== 'csrf') fields[k] = v; });
    if (e.submitter && e.submitter.name) fields[e.submitter.name] = e.submitter.value;
    if (!fields.outcome) return;
    var task = /tasks\/([^/]+)\/attempts$/.exec(f.getAttribute('action'))[1];
    var addr = document.getElementById('task-address');
    record({ key: fields.idempotency_key, ref: 'task:' + decodeURIComponent(task), url: f.getAttribute('action'), fields: fields,
      label: (addr ? addr.textContent : '') + ' · ' + (T[fields.method + '.' + fields.outcome] || fields.outcome) }).then(function () {
      location.href = shell;
    });
  });
  // Signing out deletes what waits on this device: say so first.
  document.addEventListener('submit', function (e) {
    if (!/\/logout$/.test(e.target.getAttribute('action') || '')) return;
    var n = Number(document.getElementById('offline-badge').dataset.n || 0);
    if (n > 0 && !window.confirm(T.lost.replace('{n}', n))) e.preventDefault();
  }, true);
  window.addEventListener('online', function () { sync(); });
  window.addEventListener('offline', function () { say(T.offline); });
  if (!navigator.onLine) say(T.offline);
  show().then(function () { if (navigator.onLine) sync(); });
  // For the browser test and the benchmark.
  window.wanjiaOffline = { sync: sync, record: record, newKey: newKey, download: download,
    queue: function () { return all('queue'); }, lists: function () { return all('lists'); } };
})();
