// The pages a mailed link opens: confirm an email address, or choose a new password.
// The token comes in the URL fragment (#token=…), which the browser never sends to any server; it is
// taken out of the address bar at once and POSTed in a request body, as the API expects.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");
  var form = document.getElementById("action");
  var outcome = document.getElementById("outcome");
  var token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname); // no token in history or a bookmark
  }

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

  if (!token) {
    show("This link holds no token. Open the link from the mail as it is, or ask for a new mail.", "error");
    return;
  }
  form.hidden = false;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var url, body;
    if (page === "reset") {
      var password = form.elements.new_password.value;
      if (password !== form.elements.repeat_password.value) {
        show("The two passwords differ.", "error");
        return;
      }
      url = "/v1/auth/password-reset/confirm";
      body = { token: token, new_password: password };
    } else {
      url = "/v1/accounts/verify";
      body = { token: token };
    }
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit" })
      .then(function (response) {
        if (response.ok) {
          form.hidden = true;
          show(page === "reset"
            ? "Your password is changed and every session signed out. Sign in with the new password."
            : "Your email address is confirmed. You can sign in now.", "done");
          return;
        }
        return response.json().catch(function () { return null; }).then(function (problem) {
          button.disabled = false;
          show(problemText(response.status, problem), "error");
        });
      })
      .catch(function () {
        button.disabled = false;
        show("Confide could not be reached. Check your connection and try again.", "error");
      });
  });
})();
