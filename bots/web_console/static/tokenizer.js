// The Tokenizer page, live: the result fragment is fetched again as the owner types (the server
// renders it, escaped; this script only swaps it in). Same-origin fetch with the CSRF header.
(function () {
  "use strict";
  var form = document.getElementById("tokenizer");
  if (!form) return;
  var result = document.getElementById("tok-result");
  var showIds = document.getElementById("show-ids");
  var timer = null;
  var asked = 0;

  function refresh() {
    var mine = ++asked;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.dataset.live, {
      method: "POST",
      headers: { "X-CSRF-Token": form.dataset.csrf },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== asked) return; // an older answer arriving late
        result.innerHTML = html;
        result.dataset.done = String(mine);
      });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    refresh();
  });
  showIds.addEventListener("change", function () {
    result.classList.toggle("show-ids", showIds.checked);
  });
})();
