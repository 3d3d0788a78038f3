"""Every common language is highlighted, in a separate process killed when
its time is up, so no lexer's worst case reaches the app's process; each
block says its language and has its Copy button."""

import time

from app.rendering import highlight_process, safe_lexers
from app.rendering.highlight_process import PROCESS_SECONDS, highlight_elsewhere
from app.rendering.markdown import render_answer
from tests.rendering.test_highlighting import highlighted

SNIPPETS = {
    "python": 'def greet(name):\n    return f"hi {name}"\n',
    "javascript": "const greet = (name) => `hi ${name}`;\n",
    "typescript": "function greet(name: string): string { return name; }\n",
    "html": '<a href="/x">hi</a>\n',
    "css": ".a { color: red; }\n",
    "go": 'func main() { fmt.Println("hi") }\n',
    "rust": 'fn main() { println!("hi"); }\n',
    "java": "public class A { int x = 1; }\n",
    "c": "int main(void) { return 0; }\n",
    "cpp": "#include <vector>\nint main() { std::vector<int> v; }\n",
    "yaml": "name: greet\nitems:\n  - 1\n",
    "ruby": "def greet(name) = \"hi #{name}\"\n",
    "php": "<?php echo 'hi'; ?>\n",
    "kotlin": 'fun main() { println("hi") }\n',
    "swift": 'let name = "hi"\n',
    "csharp": "class A { public int X = 1; }\n",
    "toml": "[a]\nb = 1\n",
    "dockerfile": "FROM python:3.11\nRUN pip install x\n",
}


def test_every_common_language_is_highlighted_and_labelled():
    answer = "\n".join(f"```{language}\n{code}```\n" for language, code in SNIPPETS.items())
    html = render_answer(answer)
    for language in SNIPPETS:
        block = html.split(f'<span class="code-language">{language}</span>', 1)[1].split("</pre>", 1)[0]
        assert block.startswith('<button type="button" class="copy-button" data-copy="code">'), language
        assert highlighted(block), language
    assert highlighted(html) == len(SNIPPETS)


# Scala's string rule `"(\\\\|\\"|[^"])*"` on a quote and backslashes tries
# every way to pair them: minutes of CPU for 41.
EXPONENTIAL = '"' + "\\\\" * 41


def test_a_lexer_that_would_run_for_minutes_is_killed_and_its_block_shown_plain():
    answer = f"```python\nx = 1\n```\n\n```scala\n{EXPONENTIAL}\n```\n\n```go\nvar y = 2\n```\n"
    started = time.monotonic()
    html = render_answer(answer)
    assert time.monotonic() - started < PROCESS_SECONDS + 20  # generous: the child is killed at PROCESS_SECONDS
    python, scala, go = html.split('<div class="code-block">')[1:]
    assert highlighted(python)  # finished before the kill: kept
    assert not highlighted(scala) and EXPONENTIAL[1:] in scala
    assert not highlighted(go) and "var y = 2" in go  # after the kill: plain


def test_the_process_reads_what_the_app_reads():
    assert highlight_process.OPTIONS == safe_lexers.OPTIONS
    assert highlight_elsewhere([("x = 1\n", "no-such-language"), ("x = 1\n", "python")])[0] == ""
    assert highlight_elsewhere([]) == []


def test_what_the_model_writes_in_a_block_stays_text():
    html = render_answer('```python\n"</code></pre><script>alert(1)</script>"\n```\n\n```<img src=x onerror=alert(1)>\nx\n```')
    assert "<script" not in html and "<img" not in html


def test_no_process_is_started_for_blocks_it_would_leave_plain(monkeypatch):
    from app.rendering import highlighting

    started = []
    monkeypatch.setattr(highlighting, "highlight_elsewhere", lambda blocks: started.append(blocks) or [""] * len(blocks))
    render_answer("```text\nx\n```\n\n```no-such-language\ny\n```\n\n```ruby\nz = 1\n```\n\n```\nw\n```")
    assert started == [[]]
    render_answer("```text\nx\n```\n\n```Python extra words\ny = 1\n```")
    assert started[-1] == [("y = 1\n", "python")]
