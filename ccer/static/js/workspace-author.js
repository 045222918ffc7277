// The module upload: refuse a file that is not a zip or is too large before it is sent (the server checks the same
// and has the last word), and say that the sandboxed conformance run is going while the page waits for it.
(function () {
  "use strict";
  var form = document.getElementById("propose-form");
  if (!form) { return; }
  var input = document.getElementById("package");
  var hint = document.getElementById("package-hint");
  function problem() {
    var file = input.files && input.files[0];
    if (!file) { return null; }
    if (!/\.zip$/i.test(file.name)) { return input.dataset.msgType; }
    if (file.size > Number(input.dataset.maxBytes)) { return input.dataset.msgSize; }
    return null;
  }
  input.addEventListener("change", function () { hint.textContent = problem() || ""; });
  form.addEventListener("submit", function (event) {
    var why = problem();
    if (why) { hint.textContent = why; event.preventDefault(); return; }
    document.getElementById("propose-running").hidden = false;
  });
})();
