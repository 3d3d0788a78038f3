// The unfinished end of an answer, formatted while it streams.
//
// The server renders each finished markdown block of a streaming answer once;
// the block still being written arrives as escaped text appended to
// #m-<id>-text, one small append per piece (page_events.py), so that a piece
// costs the server nothing more. This script keeps that text as the source,
// hides it, and shows next to it the same text formatted as the final answer
// will be (app/rendering/markdown.py: markdown-it, commonmark with tables):
// paragraphs with their soft line breaks joined, **strong**, *em*, `code`,
// links, headings, lists, quotations, tables and code blocks, an open fence
// included. It renders at most once an animation frame however many pieces
// come, reuses what did not change (a growing code block only gets its new
// text), and shows a tail longer than PLAIN_BEYOND as the plain text it is.
//
// Its promise, held to the CommonMark specification's examples and to
// answers in Gemini's shape by tests/end_to_end/test_browser_streaming_tail_corpus.py:
// once a line is written, the tail shows either what the server's rendering
// of the block will show (the same text, blocks and emphasis) or the block
// as plain text, never something else. What this reader does not read as
// markdown-it does (formulas, entity references, link definitions, images,
// autolinks, unusual link addresses, tabs in indentation, lazy continuation
// lines, loose lists) makes the tail plain until the server renders it. Only
// the line being written is read ahead: an opened ** shows as bold already.
//
// Model text is never parsed as HTML: every node is made with createElement
// and createTextNode, and a link keeps its address only if it is http(s),
// mailto or relative, as the server's sanitiser does. When the answer ends the
// server's rendering replaces the whole bubble, the formatted copy with it.
(function () {
  "use strict";

  var PLAIN_BEYOND = 100000; // characters of tail shown as plain text instead
  var INLINE_BUDGET = 20000; // characters parsed for emphasis and links per render; beyond, plain
  var LOOKBACK = 100; // delimiters an emphasis closer looks back over
  var RAW = ".message.outcome-streaming > .text[id$='-text']";
  var tails = new WeakMap(); // raw element -> {view, source, blocks}

  // ---- blocks -------------------------------------------------------------

  var FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
  var FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
  var HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*))?$/;
  var SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
  var RULE = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
  var QUOTE = /^ {0,3}> ?(.*)$/;
  var ITEM = /^( {0,3})([-+*]|(\d{1,9})([.)]))( +|$)/;
  var TABLE_RULE = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
  // A line just begun whose kind is not known yet ("-", "1.", "#", "|",
  // a fence's first backtick): shown once the next character says.
  var UNDECIDED = /^ {0,3}([-+*>#|=`~_]{1,3}|\d{1,9}[.)]?) ?$/;

  function indentOf(line) { return line.length - line.replace(/^ +/, "").length; }

  function listItem(line) {
    var m = ITEM.exec(line);
    if (!m) return null;
    var spaces = m[5].length, start = m[1].length + m[2].length;
    var content = spaces >= 5 ? line.slice(start + 1) : line.slice(m[0].length);
    return {
      ordered: m[3] !== undefined, start: m[3] ? parseInt(m[3], 10) : 1, mark: m[4] || m[2],
      offset: start + (spaces >= 5 || spaces === 0 ? 1 : spaces), content: content, empty: !content.trim(),
    };
  }

  function cells(line) {
    var text = line.trim().replace(/^\|/, "").replace(/(^|[^\\])\|$/, "$1");
    return text.split(/(?<!\\)\|/).map(function (cell) { return cell.trim().replace(/\\\|/g, "|"); });
  }

  // A table starts at lines[i] when the next line is its delimiter row. A
  // row that starts with "|" is taken for a table's header already while it
  // or its delimiter row is being written.
  function tableAt(lines, i, partialLast) {
    var line = lines[i], next = lines[i + 1], last = lines.length - 1;
    if (line.indexOf("|") < 0) return null;
    var head = cells(line), piped = /^ {0,3}\|/.test(line);
    if (partialLast && i === last) return piped ? head : null;
    if (partialLast && i + 1 === last && piped && /^[ \t|:-]*$/.test(next)) return head;
    return next !== undefined && TABLE_RULE.test(next) && cells(next).length === head.length ? head : null;
  }

  // A line that ends a paragraph by starting a block of its own.
  // (A table's rows go on to its end: `inTable` leaves tables out.)
  function startsBlock(lines, i, partialLast, inTable) {
    var line = lines[i], item = listItem(line);
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) ||
      (item && !item.empty && (!item.ordered || item.start === 1)) || (!inTable && tableAt(lines, i, partialLast) !== null);
  }

  // What this reader does not read as markdown-it does. A block holding one
  // is shown as the plain text it is (notes.plain) until the server renders it.
  var LEADING_TAB = /^[ >]*(?:(?:[-+*]|\d{1,9}[.)])[ >]*)?\t/; // tabs stop at 4 columns; not counted here
  // "[label]: url" defines a link and is not shown (its label may go on to the next line).
  var DEFINITION = /^ {0,3}\[(?:(?:[^\]\\]|\\.)*\]:|[^\]]*$)/;
  var INFO_ESCAPED = /[\\&]/; // backslash escapes and entities in a fence's language

  // Blocks of `lines`; `partialLast`: their last line is the one being written.
  // `notes.plain` is set when the lines hold what the final rendering shows otherwise.
  function parseBlocks(lines, partialLast, notes) {
    var blocks = [], para = null, i = 0;
    function push(block, from, to) {
      block.from = from; block.to = to;
      blocks.push(block);
      return block;
    }
    while (i < lines.length) {
      var line = lines[i], writing = partialLast && i === lines.length - 1, m, item, head;
      if (!line.trim()) { para = null; i++; continue; }
      if (writing && UNDECIDED.test(line)) { i++; continue; }
      if (LEADING_TAB.test(line)) notes.plain = true;
      if (!para && indentOf(line) >= 4) {
        var code = [], start = i;
        while (i < lines.length && (indentOf(lines[i]) >= 4 || !lines[i].trim())) code.push(lines[i++].slice(4));
        while (code.length && !code[code.length - 1].trim()) code.pop();
        push({type: "code", lang: "", text: code.join("\n") + "\n"}, start, i);
        continue;
      }
      if ((m = FENCE.exec(line)) && !(m[2][0] === "`" && m[3].indexOf("`") >= 0)) {
        var body = [], from = i, indent = m[1].length, fence = m[2], closed = false;
        for (i++; i < lines.length; i++) {
          var close = FENCE_CLOSE.exec(lines[i]), last = partialLast && i === lines.length - 1;
          if (close && close[1][0] === fence[0] && close[1].length >= fence.length && !last) { closed = true; i++; break; }
          if (last && /^ {0,3}(`+|~+)[ \t]*$/.test(lines[i]) && lines[i].trim()[0] === fence[0]) { body.push(""); continue; }
          body.push(lines[i].slice(Math.min(indent, indentOf(lines[i]))));
        }
        para = null;
        var lang = m[3].trim().split(/\s+/)[0];
        if (INFO_ESCAPED.test(lang)) notes.plain = true;
        // Each line ends with a newline, but the one being written at the end of an open fence.
        var codeText = partialLast && !closed ? body.join("\n") : body.map(function (l) { return l + "\n"; }).join("");
        push({type: "code", lang: lang, text: codeText}, from, i);
        continue;
      }
      if ((m = HEADING.exec(line))) {
        para = null;
        var title = (m[2] || "").replace(/(^|[ \t])#+[ \t]*$/, "").trim();
        push({type: "heading", level: m[1].length, text: title}, i, ++i);
        continue;
      }
      if (para && SETEXT.test(line) && !writing) {
        para.type = "heading"; para.level = line.trim()[0] === "=" ? 1 : 2; para.to = ++i; para = null;
        continue;
      }
      if (RULE.test(line)) { para = null; push({type: "rule"}, i, ++i); continue; }
      if (QUOTE.test(line)) {
        var quoted = [], qfrom = i;
        while (i < lines.length && (m = QUOTE.exec(lines[i]))) { quoted.push(m[1]); i++; }
        para = null;
        push({type: "quote", children: parseBlocks(quoted, partialLast && i === lines.length, notes)}, qfrom, i);
        // A line after a quotation that starts no block may continue its paragraph ("lazily").
        if (i < lines.length && lines[i].trim() && !startsBlock(lines, i, partialLast) &&
            !(partialLast && i === lines.length - 1 && UNDECIDED.test(lines[i]))) notes.plain = true;
        continue;
      }
      item = listItem(line);
      if (item && !(para && (item.empty || (item.ordered && item.start !== 1)))) {
        var list = push({type: "list", ordered: item.ordered, start: item.start, items: []}, i, i), mark = item.mark;
        var loose = false;
        while (i < lines.length && (item = listItem(lines[i])) && item.ordered === list.ordered && item.mark === mark &&
               !RULE.test(lines[i])) {
          var content = [item.content], fenced = FENCE.test(item.content), gap = false;
          // A blank line between an item's blocks or its list's items makes the list loose (a <p> in each item).
          if (loose) notes.plain = true;
          for (i++; i < lines.length; i++) {
            var next = lines[i];
            if (!next.trim()) { content.push(""); gap = gap || !fenced; continue; }
            if (item.empty && content.length === 1 && indentOf(next)) notes.plain = true; // text on the item's next line
            if (indentOf(next) >= item.offset) {
              if (gap) notes.plain = true;
              content.push(next.slice(item.offset));
              if (FENCE.test(next.slice(item.offset))) fenced = !fenced;
              continue;
            }
            // A line that starts no block of its own continues the item's paragraph.
            if (!fenced && content[content.length - 1].trim() && !startsBlock(lines, i, partialLast) && !listItem(next)) {
              var lazy = next.trim();
              if (UNDECIDED.test(lazy) || startsBlock([lazy], 0, false) || listItem(lazy)) notes.plain = true;
              content.push(lazy);
              continue;
            }
            break;
          }
          loose = gap;
          list.items.push(parseBlocks(content, partialLast && i === lines.length, notes));
        }
        list.to = i;
        para = null;
        continue;
      }
      if ((head = tableAt(lines, i, partialLast))) {
        var table = push({type: "table", head: head, rows: []}, i, i);
        for (i += 2; i < lines.length && lines[i].trim() && !startsBlock(lines, i, partialLast, true); i++) {
          table.rows.push(cells(lines[i]).slice(0, head.length));
        }
        table.to = i;
        para = null;
        continue;
      }
      if (para) {
        para.text += "\n" + line.replace(/^[ \t]+/, "");
        para.to = ++i;
        continue;
      }
      if (DEFINITION.test(line)) notes.plain = true;
      para = push({type: "paragraph", text: line.replace(/^[ \t]+/, "")}, i, ++i);
    }
    return blocks;
  }

  // ---- inlines ------------------------------------------------------------

  var PUNCTUATION = /[\p{P}\p{S}]/u;
  var ESCAPABLE = /[!-\/:-@\[-`{-~]/;
  var LINK = /\[((?:[^\[\]\\\n]|\\.){0,500})\]\([ \t\n]*(<[^<>\n]*>|[^\s()<>]*)(?:[ \t\n]+(?:"[^"\n]*"|'[^'\n]*'))?[ \t\n]*\)/y;
  var SCHEME = /^([a-z][a-z0-9+.\-]*):/i;
  // Read by markdown-it and not here: the text that holds one is shown plain
  // (context.unsure). Formulas become MathML (app/rendering/math.py), entity
  // references characters, autolinks links; an image is dropped by the
  // sanitiser. (Code spans are blanked out first, roughly: their text is code.)
  var FORMULA = /\$\$|\\\(|\\\[|\$[^\s$](?:[^$]*?[^\s\\$])?\$(?!\d)/;
  var ENTITY = /&(?:#\d{1,7}|#[xX][\da-fA-F]{1,6}|[A-Za-z][A-Za-z\d]{1,31});/;
  var AUTOLINK = /<[A-Za-z][A-Za-z\d+.\-]{1,31}:[^\s<>]*>|<[\w.!#$%&'*+\/=?^`{|}~\-]+@[A-Za-z\d][\w.\-]*>/;
  var CODE_SPANS = /(^|[^`])(`+)(?!`)([\s\S]*?[^`])\2(?!`)/g; // a run of backticks closed by one as long
  // An address markdown-it keeps as written (anything else it percent-encodes or unescapes).
  var PLAIN_ADDRESS = /^(?:[\w\-.~:\/?#@!$&'()*+,;=]|%[\da-fA-F]{2})*$/;

  function isSpace(ch) { return /\s/.test(ch); }

  // `text` as inline items; `atEnd`: the text ends where the answer does so
  // far, and what it opened is shown as if closed (see optimistic).
  function parseInline(text, context, atEnd) {
    if (text.length > context.budget) {
      context.unsure = true;
      return [{t: "text", v: text}];
    }
    context.budget -= text.length;
    var outsideCode = text.replace(CODE_SPANS, "$1 ");
    if (FORMULA.test(outsideCode) || ENTITY.test(outsideCode) || AUTOLINK.test(text)) context.unsure = true;
    if (atEnd) text = text.replace(/(^|[^\\])[*_~`]+$/, "$1"); // the start of a marker: wait for the next piece
    var items = [], buffer = "", i = 0, lastLine = text.lastIndexOf("\n") + 1, ticks = backtickRuns(text);
    // A "](" that is no link here may be one there (nested brackets or
    // parentheses, escapes, a title in parentheses): unless its line is being written.
    var linksEnd = atEnd ? lastLine : text.length;
    function flush() { if (buffer) { items.push({t: "text", v: buffer}); buffer = ""; } }
    while (i < text.length) {
      var ch = text[i], m;
      if (ch === "\\" && i + 1 < text.length && (text[i + 1] === "\n" || ESCAPABLE.test(text[i + 1]))) {
        if (text[i + 1] === "\n") { flush(); items.push({t: "br"}); } else buffer += text[i + 1];
        i += 2;
      } else if (ch === "\n") {
        var hard = / {2,}$/.test(buffer);
        buffer = buffer.replace(/[ \t]+$/, "");
        if (hard) { flush(); items.push({t: "br"}); } else buffer += "\n";
        i++;
      } else if (ch === "`") {
        var run = runAt(text, i, "`"), close = ticks.next(run, i + run);
        if (close < 0 && !atEnd) { buffer += text.substr(i, run); i += run; continue; }
        flush();
        items.push({t: "code", v: codeSpan(text.slice(i + run, close < 0 ? text.length : close))});
        i = close < 0 ? text.length : close + run;
      } else if (ch === "*" || ch === "_" || ch === "~") {
        var n = runAt(text, i, ch), before = i ? text[i - 1] : " ", after = i + n < text.length ? text[i + n] : " ";
        var left = !isSpace(after) && (!PUNCTUATION.test(after) || isSpace(before) || PUNCTUATION.test(before));
        var right = !isSpace(before) && (!PUNCTUATION.test(before) || isSpace(after) || PUNCTUATION.test(after));
        if (ch === "~" && n !== 2) { buffer += text.substr(i, n); i += n; continue; }
        flush();
        items.push({
          t: "delimiter", ch: ch, n: n, length: n, lastLine: i >= lastLine,
          open: ch === "_" ? left && (!right || PUNCTUATION.test(before)) : left,
          close: ch === "_" ? right && (!left || PUNCTUATION.test(after)) : right,
        });
        i += n;
      } else if (ch === "[" && (LINK.lastIndex = i, m = LINK.exec(text))) {
        flush();
        var href = m[2].replace(/^<|>$/g, "");
        // An image (dropped by the sanitiser), a code span across the "]", an address markdown-it rewrites.
        if (text[i - 1] === "!" || (m[1].split("`").length - 1) % 2 || !PLAIN_ADDRESS.test(href)) context.unsure = true;
        items.push({t: "link", href: href, kids: parseInline(m[1], context, false)});
        i += m[0].length;
      } else {
        if (ch === "]" && text[i + 1] === "(" && i < linksEnd) context.unsure = true;
        buffer += ch;
        i++;
      }
    }
    flush();
    emphasis(items);
    if (atEnd) optimistic(items);
    return items;
  }

  function runAt(text, i, ch) {
    var n = 0;
    while (text[i + n] === ch) n++;
    return n;
  }

  // Where each run of backticks starts, by length: next(length, from) is the
  // first such run at or after `from` (amortised: callers ask in order).
  function backtickRuns(text) {
    var byLength = {}, re = /`+/g, m;
    while ((m = re.exec(text))) (byLength[m[0].length] = byLength[m[0].length] || {at: [], i: 0}).at.push(m.index);
    return {
      next: function (length, from) {
        var runs = byLength[length];
        if (!runs) return -1;
        while (runs.i < runs.at.length && runs.at[runs.i] < from) runs.i++;
        return runs.i < runs.at.length ? runs.at[runs.i] : -1;
      },
    };
  }

  function codeSpan(text) {
    text = text.replace(/\n/g, " ");
    return /^ .*[^ ].* $/.test(text) ? text.slice(1, -1) : text;
  }

  // CommonMark's emphasis: each closer takes the nearest opener of its kind.
  function emphasis(items) {
    var i = 0;
    while (i < items.length) {
      var closer = items[i], found = -1;
      if (closer.t !== "delimiter" || !closer.close || !closer.n) { i++; continue; }
      for (var j = i - 1, seen = 0; j >= 0 && seen < LOOKBACK; j--) {
        var opener = items[j];
        if (opener.t !== "delimiter") continue;
        seen++;
        if (opener.ch !== closer.ch || !opener.open || !opener.n) continue;
        if (closer.ch === "~" ? opener.n !== 2 || closer.n !== 2
          : (opener.close || closer.open) && (opener.length + closer.length) % 3 === 0 &&
            (opener.length % 3 || closer.length % 3)) continue;
        found = j;
        break;
      }
      if (found < 0) { i++; continue; }
      var use = closer.ch === "~" || (items[found].n >= 2 && closer.n >= 2) ? 2 : 1;
      items[found].n -= use;
      closer.n -= use;
      items.splice(found + 1, 0, wrap(closer.ch === "~" ? "plain" : use === 2 ? "strong" : "em",
                                      items.splice(found + 1, i - found - 1)));
      i = found + 2;
    }
  }

  function wrap(type, kids) {
    kids.forEach(function (kid) { if (kid.t === "delimiter") kid.open = kid.close = false; });
    return {t: type, kids: kids};
  }

  // While a line is being written, **bold or *em opened on it shows as
  // such already (the closing marker is most likely on its way).
  function optimistic(items) {
    for (var k = items.length - 1; k >= 0; k--) {
      var opener = items[k];
      if (opener.t !== "delimiter" || !opener.open || !opener.n || !opener.lastLine || opener.ch === "~") continue;
      var rest = items.splice(k + 1);
      if (opener.n >= 3) rest = [wrap("strong", rest)];
      items.push(wrap(opener.n >= 2 ? "strong" : "em", rest));
      opener.n = 0;
    }
  }

  function appendInline(parent, items) {
    items.forEach(function (item) {
      var made;
      switch (item.t) {
        case "text": parent.appendChild(document.createTextNode(item.v)); return;
        case "delimiter": if (item.n) parent.appendChild(document.createTextNode(item.ch.repeat(item.n))); return;
        case "br": parent.appendChild(document.createElement("br")); return;
        case "plain": appendInline(parent, item.kids); return; // ~~text~~: the server's sanitiser drops <s>
        case "code":
          if (!item.v) return;
          made = document.createElement("code");
          made.textContent = item.v;
          break;
        case "link":
          made = document.createElement("a");
          var scheme = SCHEME.exec(item.href);
          if (!scheme || /^(https?|mailto)$/i.test(scheme[1])) made.setAttribute("href", item.href);
          made.target = "_blank"; // as the finished answer's links (app/rendering/markdown.py)
          made.rel = "noopener noreferrer nofollow";
          appendInline(made, item.kids);
          break;
        default: // strong, em
          made = document.createElement(item.t);
          appendInline(made, item.kids);
      }
      parent.appendChild(made);
    });
  }

  // ---- building -----------------------------------------------------------

  function element(tag, className) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    return made;
  }

  // As render_markdown makes them: a "#" heading is an <h2>; code blocks and
  // tables can be scrolled with the keyboard; a code block has its language's
// name and its Copy button.
  function build(block, context, atEnd) {
    var made, inner;
    switch (block.type) {
      case "paragraph":
        made = element("p");
        appendInline(made, parseInline(block.text, context, atEnd));
        return made;
      case "heading":
        made = element("h" + Math.min(block.level + 1, 6));
        appendInline(made, parseInline(block.text, context, atEnd));
        return made;
      case "rule": return element("hr");
      case "code":
        made = element("div", "code-block");
        var copy = element("button", "copy-button");
        copy.type = "button";
        copy.dataset.copy = "code";
        copy.textContent = "Copy code";
        var pre = element("pre", "highlight");
        pre.tabIndex = 0;
        inner = element("code", block.lang ? "language-" + block.lang : "");
        block.textNode = document.createTextNode(block.text);
        inner.appendChild(block.textNode);
        pre.appendChild(inner);
        if (block.lang) {
          var language = element("span", "code-language");
          language.textContent = block.lang;
          made.append(language);
        }
        made.append(copy, pre);
        return made;
      case "quote":
        made = element("blockquote");
        appendBlocks(made, block.children, context, atEnd, false);
        return made;
      case "list":
        made = element(block.ordered ? "ol" : "ul");
        if (block.ordered && block.start !== 1) made.setAttribute("start", String(block.start));
        block.items.forEach(function (children, index) {
          var li = element("li");
          appendBlocks(li, children, context, atEnd && index === block.items.length - 1, true);
          made.appendChild(li);
        });
        return made;
      case "table":
        made = element("table");
        made.tabIndex = 0;
        var row = element("tr");
        block.head.forEach(function (text, index) {
          var th = element("th");
          appendInline(th, parseInline(text, context, atEnd && !block.rows.length && index === block.head.length - 1));
          row.appendChild(th);
        });
        made.appendChild(element("thead")).appendChild(row);
        if (block.rows.length) {
          var body = made.appendChild(element("tbody"));
          block.rows.forEach(function (cellsOfRow, r) {
            var tr = body.appendChild(element("tr"));
            for (var c = 0; c < block.head.length; c++) {
              var td = tr.appendChild(element("td"));
              var lastCell = atEnd && r === block.rows.length - 1 && c === cellsOfRow.length - 1;
              appendInline(td, parseInline(cellsOfRow[c] || "", context, lastCell));
            }
          });
        }
        return made;
    }
  }

  // A tight list item holds its paragraphs' text without a <p>, as markdown-it renders it.
  function appendBlocks(parent, blocks, context, atEnd, tight) {
    blocks.forEach(function (block, index) {
      var last = atEnd && index === blocks.length - 1;
      if (tight && block.type === "paragraph") appendInline(parent, parseInline(block.text, context, last));
      else parent.appendChild(build(block, context, last));
    });
  }

  // ---- keeping the view in step with the raw text ----------------------------

  function attach(raw) {
    var view = element("div", "markdown streaming-tail");
    raw.after(view);
    var state = {view: view, source: null, blocks: []};
    tails.set(raw, state);
    return state;
  }

  function render(raw) {
    var state = tails.get(raw) || attach(raw);
    var source = raw.textContent;
    if (source === state.source && state.view.isConnected) return;
    state.source = source;
    if (source.length > PLAIN_BEYOND) return showPlain(raw, state, true);

    var lines = source.replace(/\r\n?/g, "\n").split("\n");
    var notes = {plain: false}, blocks = parseBlocks(lines, true, notes), context = {budget: INLINE_BUDGET}, kept = [];
    // Only a line still being written is read optimistically (an opened
    // ** as bold, an opened ` as code): once it has ended, the block is
    // shown as it will be rendered if nothing more comes.
    var writing = /\S/.test(lines[lines.length - 1]);
    blocks.forEach(function (block, index) {
      var last = writing && index === blocks.length - 1;
      block.key = block.type + (last ? "\u0001" : "\u0002") + lines.slice(block.from, block.to).join("\n");
      var old = state.blocks[index];
      if (old && old.key === block.key) { kept.push(old); return; }
      if (old && old.type === "code" && block.type === "code" && old.lang === block.lang && old.textNode &&
          block.text.startsWith(old.text)) {
        old.textNode.appendData(block.text.slice(old.text.length)); // the selection and focus stay
        old.text = block.text;
        old.key = block.key;
        kept.push(old);
        return;
      }
      context.unsure = false;
      block.node = build(block, context, last);
      block.unsure = context.unsure;
      if (old) state.view.replaceChild(block.node, old.node);
      else state.view.appendChild(block.node);
      kept.push(block);
    });
    state.blocks.slice(blocks.length).forEach(function (old) { old.node.remove(); });
    state.blocks = kept;
    showPlain(raw, state, notes.plain || kept.some(function (block) { return block.unsure; }));
  }

  // The tail as the plain text the server sent (the raw element) instead of
  // formatted: what this reader cannot show as the final rendering will.
  function showPlain(raw, state, plain) {
    raw.hidden = !plain;
    state.view.hidden = plain;
  }

  function renderAll() {
    scheduled = false;
    var following = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
    var raws = document.querySelectorAll(RAW);
    for (var i = 0; i < raws.length; i++) render(raws[i]);
    // Keep the newest text in view, as chat.js does on each swap.
    if (raws.length && following) window.scrollTo(0, document.body.scrollHeight);
  }

  var scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(renderAll);
  }

  // htmx appends each piece to the raw element (beforeend) and replaces it
  // when a block is finished (innerHTML) in the same message that adds the
  // block above: a replacement is rendered at once, so the finished block
  // never shows twice; appends wait for the next frame.
  new MutationObserver(function (records) {
    var changed = false;
    for (var i = 0; i < records.length; i++) {
      var target = records[i].target, at = target.nodeType === 1 ? target : target.parentElement;
      if (at && at.closest(".streaming-tail")) continue; // our own rendering
      changed = true;
      if (records[i].removedNodes.length && at && at.matches(RAW)) {
        renderAll();
        return;
      }
    }
    if (changed) schedule();
  }).observe(document.body, {childList: true, characterData: true, subtree: true});

  renderAll();
})();
