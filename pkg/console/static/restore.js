// Puts back what was typed into a form whose session had ended (see
// pkg/console/stash.go): the form posted to the same action gets its
// fields again, for the person to check and send. Nothing is submitted.
(function () {
  "use strict";
  var note = document.getElementById("restored");
  if (!note) return;
  var action = note.getAttribute("data-action");
  var fields = {};
  try { fields = JSON.parse(note.getAttribute("data-fields") || "{}") || {}; } catch (e) { return; }
  var skip = { csrf: true, idempotency_key: true };
  var forms = Array.prototype.filter.call(document.querySelectorAll("form"), function (f) {
    var u = new URL(f.getAttribute("action") || location.href, location.href);
    return (f.method || "").toLowerCase() === "post" && u.pathname + u.search === action;
  });
  forms.forEach(function (form) {
    Array.prototype.forEach.call(form.elements, function (el) {
      var name = el.name;
      if (!name || skip[name] || el.type === "hidden" || el.type === "file") return;
      var values = fields[name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
      } else if (el.type === "submit" || el.tagName === "BUTTON") {
        if (values.indexOf(el.value) >= 0 && el.value !== "") el.classList.add("chosen");
        return;
      } else if (values.length) {
        el.value = values[0];
      }
      if (values.length && values[0] !== "") {
        for (var d = el.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
      }
    });
    form.classList.add("restored");
  });
  if (forms.length) forms[0].scrollIntoView({ block: "nearest" });
})();
