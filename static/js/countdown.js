// Live reclaim countdowns: every [data-countdown] element holds an ISO deadline (UTC) in
// data-deadline; it shows the time left, ticking each second. At zero the row's reclaim button is
// disabled and the row says the number is gone. In the last 24 hours the countdown turns urgent: in
// its words ("Last day:") and its look (.urgent), so that it is not said by colour alone.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function format(ms) {
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    return (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
  }
  // The server's clock may differ from the browser's (the sandbox even has its own); the page says
  // what the server thought "now" was, and the countdown runs on that.
  var skew = 0;
  var serverNow = document.body.getAttribute("data-server-now");
  if (serverNow) skew = Date.parse(serverNow) - Date.now();

  var DAY = 86400000;

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-deadline")) - now;
      var scope = el.closest("[data-countdown-scope]") || el.parentElement;
      if (left > 0) {
        var urgent = left <= DAY;
        el.classList.toggle("urgent", urgent);
        el.textContent = (urgent ? "Last day: " : "") + format(left) + " left to reclaim";
        return;
      }
      el.classList.remove("urgent");
      el.textContent = "Reclaim window closed: the number is gone.";
      el.removeAttribute("data-countdown");
      scope.querySelectorAll("[data-reclaim]").forEach(function (b) {
        b.disabled = true;
        b.title = "The 7-day reclaim window has closed.";
      });
    });
  }
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSettle", tick);
})();
