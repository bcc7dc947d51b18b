// Knowledge-base assistant in the work console: as the agent types notes (or picks a category), fetch the
// best-matching articles from the claim's assist endpoint and show them; "Helped" / "Did not help" post
// feedback (CSRF token from the section's data-csrf). Without JavaScript the server-rendered list stays.
(function () {
  "use strict";
  var box = document.getElementById("kb-assist");
  if (!box) { return; }
  var list = document.getElementById("kb-suggestions");
  var notes = document.querySelector("textarea[name=notes]");
  var category = document.querySelector("select[name=category]");
  var DEBOUNCE_MS = 300;
  var timer = null;
  var lastQuery = null;
  var inflight = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function feedback(item, helpful, status) {
    var body = new FormData();
    body.append("csrf_token", box.dataset.csrf);
    body.append("helpful", helpful ? "1" : "0");
    if (box.dataset.contact) { body.append("contact_id", box.dataset.contact); }
    fetch(item.feedback_url, {method: "POST", body: body, credentials: "same-origin",
                              headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) { status.textContent = data.ok ? data.message : data.error; })
      .catch(function () { status.textContent = box.dataset.failed; });
  }

  function render(items) {
    list.textContent = "";
    if (!items.length) {
      list.appendChild(el("li", "muted", box.dataset.empty));
      return;
    }
    items.forEach(function (item) {
      var li = el("li");
      var link = el("a");
      link.href = item.url;
      link.appendChild(el("strong", null, item.title));
      li.appendChild(link);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "pill", item.kind));
      if (item.platform) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "pill", box.dataset.platform));
      }
      li.appendChild(el("p", "small muted", item.snippet));
      var actions = el("div", "kb-feedback");
      var status = el("span", "small muted");
      var yes = el("button", "btn small", box.dataset.helped);
      var no = el("button", "btn small secondary", box.dataset.notHelped);
      yes.type = no.type = "button";
      yes.addEventListener("click", function () { feedback(item, true, status); });
      no.addEventListener("click", function () { feedback(item, false, status); });
      actions.appendChild(yes);
      actions.appendChild(no);
      actions.appendChild(status);
      li.appendChild(actions);
      list.appendChild(li);
    });
  }

  function refresh() {
    var q = notes ? notes.value.slice(-500) : "";
    var cat = category ? category.value : "";
    var key = q + "\u0000" + cat;
    if (key === lastQuery) { return; }
    lastQuery = key;
    var url = box.dataset.assistUrl + "?q=" + encodeURIComponent(q) + "&category=" + encodeURIComponent(cat) +
      (box.dataset.contact ? "&contact=" + encodeURIComponent(box.dataset.contact) : "");
    if (inflight && inflight.abort) { inflight.abort(); }
    inflight = window.AbortController ? new AbortController() : null;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"},
                signal: inflight ? inflight.signal : undefined})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) { render(data.suggestions || []); })
      .catch(function (err) { if (!err || err.name !== "AbortError") { lastQuery = null; } });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  if (notes) { notes.addEventListener("input", schedule); }
  if (category) { category.addEventListener("change", schedule); }
}());
