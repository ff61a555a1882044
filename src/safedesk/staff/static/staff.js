// SafeDesk staff app: small progressive enhancements only (every page works without script).
(function () {
  "use strict";

  // Ask before irreversible or audited actions: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // Prevent double submits (a second click would send a reply twice).
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    window.setTimeout(function () { form.dataset.sent = ""; }, 5000);
  });

  // Queues refresh themselves while nobody is typing: <body data-autorefresh="SECONDS">.
  var seconds = parseInt(document.body.getAttribute("data-autorefresh") || "0", 10);
  if (seconds > 0) {
    window.setInterval(function () {
      var active = document.activeElement;
      var typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
      // Someone moving through the page with the keyboard (or a screen reader) would be thrown back to the top.
      var navigating = active && active !== document.body && active.matches && active.matches(":focus-visible");
      if (!typing && !navigating && document.visibilityState === "visible") window.location.reload();
    }, seconds * 1000);
  }

  // Ctrl/Cmd+Enter sends the form a textarea belongs to.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target && target.tagName === "TEXTAREA" && target.form) {
      event.preventDefault();
      if (typeof target.form.requestSubmit === "function") target.form.requestSubmit();
      else target.form.submit();
    }
  });
})();
