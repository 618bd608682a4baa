// Merge-field buttons (outreachpages' "merge-fields"): a tap inserts the
// field ({{.Name}}) at the cursor of the body, or over what is selected,
// and fires an input event so the live preview (htmx) and its SMS length
// follow. Without this script the buttons stay hidden.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".merge-fields[data-for]"), function (group) {
    var area = document.getElementById(group.getAttribute("data-for"));
    if (!area || typeof area.setRangeText !== "function") return;
    group.hidden = false;
    group.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-field]");
      if (!b) return;
      ev.preventDefault();
      var text = b.getAttribute("data-field");
      var start = area.selectionStart, end = area.selectionEnd;
      if (typeof start !== "number") start = end = area.value.length;
      area.setRangeText(text, start, end, "end");
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
})();
