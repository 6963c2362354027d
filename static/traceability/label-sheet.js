/* A label sheet being made: follow its progress (the JSON at data-url) until it is done. */
(function () {
  "use strict";
  var box = document.getElementById("label-sheet-state");
  if (!box || box.dataset.finished === "1") { return; }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("label-sheet-status").textContent = s.status_label;
      document.getElementById("label-sheet-count").textContent = s.progress_label;
      var bar = document.getElementById("label-sheet-progress"); bar.value = s.progress; bar.textContent = s.percent + "%";
      if (s.download_url) { var d = document.getElementById("label-sheet-download"); d.querySelector("a").href = s.download_url; d.hidden = false; }
      if (s.error) { var e = document.getElementById("label-sheet-error"); e.querySelector("small").textContent = s.error; e.hidden = false; }
      if (s.finished) { var w = document.getElementById("label-sheet-wait"); if (w) { w.hidden = true; } } else { setTimeout(poll, 1500); }
    }).catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
