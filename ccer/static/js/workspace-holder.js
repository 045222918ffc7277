// The beneficiary's 统一社会信用代码 checked as it is typed (GB 32100-2015: 18 characters of the 31-character
// alphabet, check character over the first 17 with weights 3^(i-1) mod 31). The server checks the same rule
// (ccer/auth/uscc.py) and has the last word; this only tells the user early.
(function () {
  "use strict";
  var ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

  function check(first17) {
    var total = 0, weight = 1;
    for (var i = 0; i < 17; i++) {
      total += ALPHABET.indexOf(first17.charAt(i)) * weight;
      weight = (weight * 3) % 31;
    }
    return ALPHABET.charAt((31 - (total % 31)) % 31);
  }

  function problem(input, code) {
    for (var i = 0; i < code.length; i++) {
      if (ALPHABET.indexOf(code.charAt(i)) < 0) { return input.dataset.msgChar + " (" + (i + 1) + ")"; }
    }
    if (code.length !== 18) { return input.dataset.msgLength + " (" + code.length + ")"; }
    var expected = check(code.slice(0, 17));
    if (code.charAt(17) !== expected) { return input.dataset.msgCheck + " (" + expected + ")"; }
    return null;
  }

  document.querySelectorAll("input[data-uscc]").forEach(function (input) {
    var hint = document.getElementById(input.id + "-hint");
    function update() {
      var code = input.value.trim().toUpperCase();
      if (!code) { hint.textContent = ""; hint.className = "uscc-hint"; return; }
      var why = problem(input, code);
      hint.textContent = why || input.dataset.msgOk;
      hint.className = "uscc-hint " + (why ? "field-error" : "ok");
    }
    input.addEventListener("input", update);
    update();
  });
})();
