// The composer's "Think before answering" follows the model picker: each
// option says whether its model lets thinking be switched (data-thinking:
// optional | always | unknown) and whether it thinks unless told
// (data-thinks). Where it cannot be switched, the checkbox and its hidden
// "off" are disabled (nothing is sent: the model's own way) and the hint
// beside it says why. The server checks the same rules
// (app/providers/gemini_models.py); the page renders the first state.
(function () {
  "use strict";

  function follow(select) {
    var box = document.getElementById("thinking-choice");
    var option = select.options[select.selectedIndex];
    if (!box || !option) return;
    var mode = option.getAttribute("data-thinking");
    var hidden = box.closest(".thinking-switch").querySelector('input[type="hidden"][name="thinking"]');
    var hint = document.getElementById("thinking-hint");
    var switchable = mode === "optional";
    box.disabled = !switchable;
    if (hidden) hidden.disabled = !switchable;
    box.checked = switchable ? option.getAttribute("data-thinks") === "1" : true;
    if (hint) {
      // The model's short name: its label's words before the dash.
      var name = option.textContent.split(" \u2014 ")[0];
      hint.textContent = mode === "always" ? name + " always thinks"
        : mode === "unknown" ? "This model decides when to think" : "";
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "model-choice") follow(event.target);
  });
})();
