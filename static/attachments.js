// The composer's attached files: chips (a thumbnail for images, the name,
// type and size, a remove button) for what the file input holds, files
// dropped on the page or pasted into the box added to it, and the limits
// checked before anything is sent (the server checks them again). The
// input itself stays the one source of what is sent, so htmx's multipart
// request and a plain form carry the same files.
(function () {
  "use strict";

  function box() { return document.querySelector("#composer .attach"); }
  function input() { return document.getElementById("attach-files"); }
  function say(text) { document.getElementById("composer-error").textContent = text; }

  function size(count) {
    if (count < 1000) return count + " bytes";
    if (count < 1000000) return Math.round(count / 1000) + " KB";
    return (count / 1000000).toFixed(1) + " MB";
  }

  function extension(name) {
    var dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot).toLowerCase();
  }

  // The reason `file` cannot go, or "" if it can.
  function refusal(file, settings) {
    var allowed = settings.accept.split(",");
    if (allowed.indexOf(extension(file.name)) < 0) {
      return file.name + ": that type of file cannot be attached here (" + settings.hint + ")";
    }
    if (file.size > settings.maxBytes) {
      return file.name + " is " + size(file.size) + "; the limit is " + size(settings.maxBytes) + " per file.";
    }
    if (file.size === 0) return file.name + " is empty.";
    return "";
  }

  function settingsOf(container) {
    return {
      accept: container.dataset.accept,
      maxBytes: parseInt(container.dataset.maxBytes, 10),
      maxFiles: parseInt(container.dataset.maxFiles, 10),
      hint: document.getElementById("attach-hint").textContent.trim()
    };
  }

  // Put `files` (an array of File) into the input, keeping those already
  // there; refused ones are named next to the box and left out.
  function add(files) {
    var container = box();
    if (!container || !files.length) return;
    var settings = settingsOf(container);
    var kept = Array.prototype.slice.call(input().files);
    var problems = [];
    files.forEach(function (file) {
      var why = refusal(file, settings);
      if (!why && kept.length >= settings.maxFiles) why = "A message may carry at most " + settings.maxFiles + " files.";
      if (why) problems.push(why); else kept.push(file);
    });
    setFiles(kept);
    say(problems.join(" "));
  }

  function setFiles(files) {
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input().files = transfer.files;
    render();
  }

  function render() {
    var list = document.getElementById("attach-chips");
    if (!list) return;
    list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    list.textContent = "";
    Array.prototype.forEach.call(input().files, function (file, index) {
      var chip = document.createElement("li");
      chip.className = "attach-chip";
      if (/^image\/(png|jpeg|webp)$/.test(file.type)) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "";
        chip.appendChild(img);
      }
      var label = document.createElement("span");
      label.className = "attach-chip-label";
      label.textContent = file.name + " · " + (file.type || "file") + " · " + size(file.size);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "attach-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.addEventListener("click", function () {
        var files = Array.prototype.slice.call(input().files);
        files.splice(index, 1);
        setFiles(files);
        input().focus();
      });
      chip.append(label, remove);
      list.appendChild(chip);
    });
  }

  // A new pick adds to what was picked before, as the chips show it.
  var previous = [];
  document.addEventListener("click", function (event) {
    if (event.target === input() || event.target.closest("label[for=attach-files]")) {
      previous = input() ? Array.prototype.slice.call(input().files) : [];
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.target === input()) previous = Array.prototype.slice.call(input().files);
  }, true);
  document.addEventListener("change", function (event) {
    if (event.target !== input()) return;
    var picked = Array.prototype.slice.call(input().files);
    setFiles(previous);
    previous = [];
    add(picked);
  });

  document.addEventListener("dragover", function (event) {
    if (box() && event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      document.body.classList.add("dragging-files");
    }
  });
  document.addEventListener("dragleave", function (event) {
    if (event.relatedTarget === null) document.body.classList.remove("dragging-files");
  });
  document.addEventListener("drop", function (event) {
    document.body.classList.remove("dragging-files");
    if (!box() || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    add(Array.prototype.slice.call(event.dataTransfer.files));
  });

  // An image pasted into the box (a screenshot) is attached; pasted text stays text.
  document.addEventListener("paste", function (event) {
    if (event.target.id !== "message" || !event.clipboardData) return;
    var files = Array.prototype.slice.call(event.clipboardData.files || []);
    if (!files.length) return;
    event.preventDefault();
    add(files.map(function (file, index) {
      if (file.name && file.name !== "image.png") return file;
      var type = file.type || "image/png";
      var name = "pasted-" + Date.now() + (index ? "-" + index : "") + "." + (type.split("/")[1] || "png");
      return new File([file], name.replace(".jpeg", ".jpg"), { type: type });
    }));
  });

  // Sent: the files went with the message. Refused: they stay, with the draft.
  document.addEventListener("htmx:after:request", function (event) {
    if (event.target.id !== "composer" || !input()) return;
    var status = event.detail.ctx.response.status;
    if (status < 400) setFiles([]);
  });
})();
