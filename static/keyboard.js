// The page by keyboard: the skip link, the shortcuts (listed in
// templates/_shortcuts.html), the dialog that lists them, and the greeting's
// example prompts, each leaving the keyboard where the person expects it.
//
// The keys are ChatGPT's, so hands that know one know the other:
//   Ctrl/Cmd+Shift+O  new chat          Shift+Esc  the message box
//   Ctrl/Cmd+Shift+C  copy last answer  Esc        stop (chat.js)
//   ? (not typing) or Ctrl/Cmd+/        the list of them
// The page sees them before the browser's own (Chromium's bookmark manager,
// its inspector), and takes only these exact combinations. Shift+Esc is
// Chrome's task manager on Windows and ChromeOS, which never lets the page
// see it: there `/` (not typing: GitHub's and YouTube's key for their search
// box) goes to the box too.
//
// Listened for on window in the capture phase: before chat.js's keys on the
// document, so Shift+Esc (or Esc closing the list) never also stops an answer.
(function () {
  "use strict";

  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

  function box() { return document.getElementById("message"); }
  function dialog() { return document.getElementById("shortcuts"); }

  function focusBox() {
    var message = box();
    if (!message) return;
    message.focus();
    // At the end of the draft, as a person coming back to it expects.
    message.setSelectionRange(message.value.length, message.value.length);
  }

  function say(text) {
    var announcer = document.getElementById("announcer");
    if (announcer) announcer.textContent = text;
  }

  // Typing in a field: `?` is a character there, not a shortcut.
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // --- the list of shortcuts -------------------------------------------------

  var opener = null;  // what had the keyboard before the list opened

  function openShortcuts() {
    var list = dialog();
    if (!list || list.open) return;
    opener = document.activeElement;
    list.showModal();
  }

  function closed() {
    var back = opener;
    opener = null;
    if (back && back.isConnected && back !== document.body) back.focus();
    else focusBox();
  }

  // --- the shortcuts ---------------------------------------------------------

  function newChat() {
    var link = document.querySelector(".new-chat");
    // The new page's box has autofocus: the keyboard lands there.
    location.assign(link ? link.href : "/");
  }

  function copyLastAnswer() {
    var buttons = document.querySelectorAll("#transcript .message.assistant .copy-button[data-copy=answer]");
    if (!buttons.length) {
      say("There is no answer to copy yet.");
      return;
    }
    buttons[buttons.length - 1].click();  // chat.js copies it and says "Copied" on the button
    say("Copied the last answer.");
  }

  window.addEventListener("keydown", function (event) {
    if (event.isComposing || event.defaultPrevented) return;
    var mod = MAC ? event.metaKey : event.ctrlKey;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var action = null;
    if (dialog() && dialog().open) {
      // The dialog closes itself on Esc; nothing behind it reacts.
      if (key === "Escape") event.stopPropagation();
      return;
    }
    if (mod && event.shiftKey && !event.altKey && key === "o") action = newChat;
    else if (mod && event.shiftKey && !event.altKey && key === "c") action = copyLastAnswer;
    else if (mod && !event.shiftKey && !event.altKey && key === "/") action = openShortcuts;
    else if (key === "?" && !mod && !event.altKey && !typing(event.target)) action = openShortcuts;
    else if (key === "Escape" && event.shiftKey && !mod && !event.altKey) action = focusBox;
    else if (key === "/" && !mod && !event.altKey && !typing(event.target)) action = focusBox;
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    action();
  }, true);

  // --- buttons that do the same ---------------------------------------------

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    if (!target) return;
    if (target.closest(".skip-link")) {
      // Straight into the box, without "#message" in the address bar.
      event.preventDefault();
      focusBox();
    } else if (target.closest(".shortcuts-button")) {
      openShortcuts();
    } else if (target.closest(".example-prompt")) {
      // As ChatGPT and Gemini do: the prompt is sent as if typed. Through
      // the box, so sending behaves exactly as typing and Enter does (one
      // message at a time, the question shown at once, the draft kept on
      // a failure), and the keyboard stays in the box for the next one.
      event.preventDefault();
      var message = box();
      var form = message && message.form;
      if (!form) return;
      message.value = target.closest(".example-prompt").value;
      message.dispatchEvent(new Event("input", { bubbles: true }));
      focusBox();
      form.requestSubmit();
    }
  });

  var list = dialog();
  if (list) list.addEventListener("close", closed);

  // What needs this script shows only with it; "Ctrl" is "⌘" on a Mac.
  document.querySelectorAll(".shortcuts-button").forEach(function (button) { button.hidden = false; });
  if (MAC) {
    document.querySelectorAll("kbd.mod-key").forEach(function (key) { key.textContent = "⌘"; });
  }
})();
