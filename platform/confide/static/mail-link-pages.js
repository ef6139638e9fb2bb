// The pages a mailed link opens (confide/accounts/pages.py): each names its action in <body data-page>.
// The token comes in the URL fragment (#token=…), which the browser never sends to any server; it is
// taken out of the address bar at once and POSTed in a request body, as the API expects.
(function () {
  "use strict";
  // What each page does: the route it POSTs to, the form fields sent with the token, and what success says.
  // Every page acts on a button press, never on opening: mail scanners open links (and run their scripts),
  // and an unsubscribe they set off would be recorded as the person withdrawing consent.
  var ACTIONS = {
    verify: {
      url: "/v1/accounts/verify",
      done: "Your email address is confirmed. You can sign in now."
    },
    reset: {
      url: "/v1/auth/password-reset/confirm",
      fields: ["new_password"],
      check: function (form) {
        return form.elements.new_password.value === form.elements.repeat_password.value ? null : "The two passwords differ.";
      },
      done: "Your password is changed and every session signed out. Sign in with the new password."
    },
    "contact-objection": {
      url: "/v1/contact/objection",
      done: "Your contact messages and the details in them are deleted; the conversation has ended."
    },
    "newsletter-confirm": {
      url: "/v1/newsletter/confirm",
      done: "Your newsletter subscription is confirmed. Every issue carries a link to unsubscribe."
    },
    "newsletter-unsubscribe": {
      url: "/v1/newsletter/unsubscribe",
      alreadyDone: "unsubscribe-token-used",
      done: "You are unsubscribed: no more newsletters go to this address."
    }
  };

  var action = ACTIONS[document.body.getAttribute("data-page")];
  var form = document.getElementById("action");
  var outcome = document.getElementById("outcome");
  var token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname); // no token in history or a bookmark
  }
  // A link opened again in the same tab changes only the fragment, which loads nothing: start afresh.
  window.addEventListener("hashchange", function () { window.location.reload(); });

  function show(text, kind) {
    outcome.textContent = text;
    outcome.className = kind;
  }

  function problemText(status, problem) {
    if (problem && Array.isArray(problem.errors) && problem.errors.length) {
      return problem.errors.map(function (e) { return e.message; }).join(" ");
    }
    if (problem && problem.detail) return problem.detail;
    return "That did not work (HTTP " + status + "). Try again shortly.";
  }

  if (!action) {
    show("This page does not know what to do. Open the link from the mail as it is.", "error");
    return;
  }
  if (!token) {
    show("This link holds no token. Open the link from the mail as it is, or ask for a new mail.", "error");
    return;
  }
  form.hidden = false;
  var button = form.querySelector("button");

  function submit() {
    var problem = action.check ? action.check(form) : null;
    if (problem) {
      show(problem, "error");
      return;
    }
    var body = { token: token };
    (action.fields || []).forEach(function (name) { body[name] = form.elements[name].value; });
    button.disabled = true;
    show("", "");
    fetch(action.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit" })
      .then(function (response) {
        if (response.ok) {
          form.hidden = true;
          show(action.done, "done");
          return;
        }
        return response.json().catch(function () { return null; }).then(function (problem) {
          if (action.alreadyDone && problem && typeof problem.type === "string" && problem.type.slice(-action.alreadyDone.length - 1) === "/" + action.alreadyDone) {
            form.hidden = true;  // pressed twice, or the link opened again: what the reader wanted holds
            show(problem.detail || action.done, "done");
            return;
          }
          button.disabled = false;
          show(problemText(response.status, problem), "error");
        });
      })
      .catch(function () {
        button.disabled = false;
        show("Confide could not be reached. Check your connection and try again.", "error");
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
})();
