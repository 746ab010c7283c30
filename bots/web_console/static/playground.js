// The Playground page: messages added and removed, the prompt's tokens counted as the owner
// types, the answer streamed into the page (newline-delimited JSON read from fetch's body),
// View code and Save as persona. Every request carries the session's CSRF token in a header;
// everything the server sends is put in as text, or as fragments it rendered escaped.
(function () {
  "use strict";
  var form = document.getElementById("playground");
  if (!form) return;
  var base = form.dataset.base;
  var $ = function (id) { return document.getElementById(id); };
  var answer = $("answer"), usage = $("usage"), error = $("form-error");
  var timer = null, asked = 0;

  function post(path, extra) {
    var body = new URLSearchParams(new FormData(form));
    Object.keys(extra || {}).forEach(function (k) { body.set(k, extra[k]); });
    return fetch(base + path, {
      method: "POST",
      headers: { "X-CSRF-Token": form.dataset.csrf },
      body: body,
      credentials: "same-origin",
    });
  }

  function count(quiet) {
    var mine = ++asked;
    post("/count").then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== asked) return;
      if (!quiet || !data.error) error.textContent = data.error || "";
      $("prompt-tokens").textContent = data.error ? "—" : String(data.tokens) +
        (data.estimated !== null && data.estimated !== undefined ? " (about " + data.estimated + ")" : "");
      form.dataset.counted = String(mine);
    });
  }
  function soon() { clearTimeout(timer); timer = setTimeout(function () { count(false); }, 250); }

  function addMessage(role, text) {
    var row = $("message-template").content.firstElementChild.cloneNode(true);
    row.querySelector("select").value = role;
    row.querySelector("textarea").value = text || "";
    $("messages").appendChild(row);
    soon();
    return row;
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", function (event) {
    if (event.target.id === "model") {
      var kept = {};
      $("params").querySelectorAll("input, select").forEach(function (i) { kept[i.name] = i.value; });
      fetch(base + "/params?model=" + encodeURIComponent(event.target.value), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          $("params").innerHTML = html;
          $("params").querySelectorAll("input, select").forEach(function (i) {
            if (kept[i.name]) i.value = kept[i.name];
          });
          soon();
        });
    } else {
      soon();
    }
  });
  $("messages").addEventListener("click", function (event) {
    if (event.target.classList.contains("remove")) {
      event.target.closest(".message").remove();
      soon();
    }
  });
  $("add-message").addEventListener("click", function () {
    var rows = $("messages").querySelectorAll(".message select");
    var last = rows.length ? rows[rows.length - 1].value : "assistant";
    addMessage(last === "user" ? "assistant" : "user").querySelector("textarea").focus();
  });
  $("keep-answer").addEventListener("click", function () {
    addMessage("assistant", answer.textContent);
    addMessage("user", "").querySelector("textarea").focus();
    $("keep-answer").classList.add("hidden");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    answer.textContent = "";
    usage.textContent = "";
    error.textContent = "";
    $("keep-answer").classList.add("hidden");
    delete answer.dataset.done;
    $("run").disabled = true;
    post("/run").then(function (response) {
      if (!response.ok) {
        return response.json().then(function (data) { error.textContent = data.error; });
      }
      var reader = response.body.getReader(), decoder = new TextDecoder(), held = "";
      function show(line) {
        if (!line) return;
        var data = JSON.parse(line);
        if (data.delta) answer.textContent += data.delta;
        if (data.error) error.textContent = data.error;
        if (data.done) {
          var d = data.done;
          usage.textContent = d.model + " · prompt " + d.prompt_tokens + " tokens" +
            (d.cached_tokens ? " (" + d.cached_tokens + " cached)" : "") + " · answer " +
            d.completion_tokens + " tokens" +
            (d.reasoning_tokens ? " (" + d.reasoning_tokens + " reasoning)" : "") +
            " · cost " + d.cost + " · finish: " + d.finish_reason;
          usage.dataset.costUsd = String(d.cost_usd);
          $("keep-answer").classList.remove("hidden");
        }
      }
      function pump() {
        return reader.read().then(function (part) {
          held += decoder.decode(part.value || new Uint8Array(), { stream: !part.done });
          var lines = held.split("\n");
          held = lines.pop();
          lines.forEach(show);
          if (!part.done) return pump();
          show(held);
          answer.dataset.done = "yes";
        });
      }
      return pump();
    }).catch(function () {
      error.textContent = "The console could not be reached: check the connection and try again.";
    }).then(function () { $("run").disabled = false; });
  });

  $("view-code").addEventListener("click", function () {
    post("/code").then(function (r) { return r.text(); }).then(function (html) {
      $("code").innerHTML = html;
    });
  });
  $("code").addEventListener("click", function (event) {
    var tab = event.target.dataset.tab;
    if (!tab) return;
    $("code").querySelectorAll("[role=tab]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    });
    $("code").querySelectorAll("pre").forEach(function (pre) {
      pre.classList.toggle("hidden", pre.id !== tab);
    });
  });

  $("save-persona").addEventListener("click", function () {
    post("/save").then(function (r) { return r.json(); }).then(function (data) {
      var status = $("save-status");
      status.textContent = data.ok || data.error;
      status.className = data.ok ? "ok" : "error";
    });
  });

  count(true); // the first count says nothing of the still empty message
})();
