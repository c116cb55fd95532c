/* The segment admin's live count: while the rules are typed, post them to the admin's count
   endpoint (staff only, throttled) and show how many customers they select now, or what is
   wrong with them. No library: the admin page and fetch are enough. */
"use strict";

(function () {
  const DELAY_MS = 700;

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function show(status, text, problems, isError) {
    status.textContent = text;
    status.classList.toggle("errornote", Boolean(isError));
    if (problems && problems.length) {
      const list = document.createElement("ul");
      list.className = "errorlist";
      for (const problem of problems) {
        const item = document.createElement("li");
        item.textContent = problem;
        list.appendChild(item);
      }
      status.appendChild(list);
    }
  }

  function start(textarea) {
    const status = document.createElement("div");
    status.className = "segment-count help";
    status.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", status);
    const kind = document.getElementById("id_kind");
    const name = document.getElementById("id_name");
    let timer = null;
    let latest = 0;

    async function count() {
      const asked = ++latest;
      if (kind && kind.value === "static") {
        show(status, "A static segment's members come from uploaded lists.");
        return;
      }
      if (!textarea.value.trim()) {
        show(status, "No rules yet.");
        return;
      }
      let rules;
      try {
        rules = JSON.parse(textarea.value);
      } catch (error) {
        show(status, "Not valid JSON yet: " + error.message, null, true);
        return;
      }
      show(status, "Counting…");
      let response;
      try {
        response = await fetch(textarea.dataset.countUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
          body: JSON.stringify({
            rules: rules,
            segment: textarea.dataset.segment ? Number(textarea.dataset.segment) : null,
            name: name ? name.value : "",
          }),
        });
      } catch (error) {
        if (asked === latest) show(status, "Could not count: " + error.message, null, true);
        return;
      }
      const body = await response.json().catch(() => ({}));
      if (asked !== latest) return; // an older answer, overtaken by the rules typed since
      if (response.ok) {
        const n = body.count;
        show(status, n.toLocaleString() + (n === 1 ? " customer matches" : " customers match") +
          " these rules now.");
        return;
      }
      const problem = body.error || {};
      const details = (problem.details && problem.details.rules) || null;
      if (response.status === 429) {
        const wait = response.headers.get("Retry-After");
        show(status, "Too many counts; the next one in " + (wait || "a few") + " s.", null, true);
      } else {
        show(status, problem.message || "Could not count (" + response.status + ").",
          details, true);
      }
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(count, DELAY_MS);
    }

    textarea.addEventListener("input", later);
    if (kind) kind.addEventListener("change", later);
    count();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea.segment-rules[data-count-url]").forEach(start);
  });
})();
