// The console's service worker (served as /console/sw.js, scope
// /console/). It caches nothing on its own: offline.js puts the offline
// shell and the static assets into the "wanjia-offline" cache when a worker
// downloads the lists. Pages always come from the network first; only a
// list page that cannot be fetched is answered with the shell, which draws
// the downloaded lists from IndexedDB. Nothing else is intercepted.
'use strict';

var CACHE = 'wanjia-offline';
// The pages a worker may open at the door: a campaign's call or door
// list, the isolation board and the shell itself.
var LIST = /^\/console\/orgs\/([^/]+)\/(screenings\/[^/]+\/(calls|visits)|isolation|offline)\/?$/;

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf('/console/static/') === 0) {
    // Hashed assets never change under their URL: the cached copy, if the
    // page stored one, else the network (and the browser's own cache).
    e.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(req).then(function (hit) { return hit || fetch(req); });
    }));
    return;
  }
  var m = req.mode === 'navigate' && LIST.exec(url.pathname);
  if (!m) return;
  e.respondWith(fetch(req).catch(function (err) {
    return caches.open(CACHE).then(function (c) {
      return c.match('/console/orgs/' + m[1] + '/offline').then(function (shell) {
        if (shell) return shell;
        throw err;
      });
    });
  }));
});
