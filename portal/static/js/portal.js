// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Preselect the browser's time zone on forms that ask for one and have not been touched.
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = null; }
  if (zone) {
    document.querySelectorAll("select[data-detect-timezone]").forEach(function (select) {
      if (select.dataset.userSet === "true") { return; }
      var aliases = {};
      try { aliases = JSON.parse(select.dataset.zoneAliases || "{}"); } catch (e) { aliases = {}; }
      var wanted = [zone, aliases[zone]];
      for (var w = 0; w < wanted.length; w++) {
        for (var i = 0; i < select.options.length; i++) {
          if (wanted[w] && select.options[i].value === wanted[w]) { select.value = wanted[w]; return; }
        }
      }
    });
  }
  // Show specialist-only fields only when the Specialist role is chosen.
  document.querySelectorAll("[data-role-select]").forEach(function (select) {
    var targets = document.querySelectorAll("[data-specialist-only]");
    function sync() {
      targets.forEach(function (el) { el.hidden = select.value !== "specialist"; });
    }
    select.addEventListener("change", sync);
    sync();
  });
  // Confirmation for buttons that ask for it (the server-side confirm page still exists).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
