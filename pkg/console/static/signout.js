// Runs on the sign-in page after signing out: what the offline lists kept
// on this device (IndexedDB, the cache, the service worker) goes with the
// session, for browsers that ignore the Clear-Site-Data header.
'use strict';
(function () {
  try { indexedDB.deleteDatabase('wanjia-offline'); } catch (e) { /* none */ }
  if (window.caches) caches.delete('wanjia-offline');
  if (navigator.serviceWorker) {
    navigator.serviceWorker.getRegistrations().then(function (rs) {
      rs.forEach(function (r) { r.unregister(); });
    });
  }
})();
