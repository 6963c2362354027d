/* Member import status page: poll the progress JSON and update the bar without reloading;
   reload once the import is finished so the report shows. No dependency, no CDN. */
(function () {
  "use strict";
  var box = document.getElementById("import-state");
  if (!box || box.dataset.finished === "1" || !window.fetch) { return; }
  var delay = 1000;
  function text(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = value; }
  }
  function show(state) {
    text("import-status", state.status_label);
    text("import-count", state.progress_label);
    var bar = document.getElementById("import-progress");
    if (bar) { bar.value = state.percent; bar.textContent = state.percent + "%"; }
    Object.keys(state.counts || {}).forEach(function (key) {
      var node = document.querySelector('[data-count="' + key + '"]');
      if (node) { node.textContent = state.counts[key]; }
    });
    if (state.error) {
      var error = document.getElementById("import-error");
      if (error) { error.textContent = state.error; error.hidden = false; }
    }
  }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", cache: "no-store",
                            headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) {
          window.location.reload();
        } else {
          delay = 1500;
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
