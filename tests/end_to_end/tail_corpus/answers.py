"""Answers in the shape Gemini writes them, for the streaming tail's corpus test.

Written for this project: headings, nested and numbered lists, tables, code
fences (closed and not), links, bold and italic, inline code, dollar amounts
and formulas, quotations, rules, and the slips a model makes (an unclosed
marker, a list under a paragraph, a table row short of cells).
"""

ANSWERS = [
    """## How to reverse a list in Python

There are **three common ways**, each with its own trade-off:

1. **Slicing**: `items[::-1]` returns a *new* list.
2. **`reversed()`**: returns an iterator, so nothing is copied until you read it.
3. **`list.reverse()`**: reverses *in place* and returns `None`.

```python
items = [1, 2, 3]
print(items[::-1])      # [3, 2, 1]
items.reverse()
print(items)            # [3, 2, 1]
```

> **Note:** `list.reverse()` changes the original list, so don't use it if other code holds a reference.""",

    """Sure! Here's a quick comparison of the three most popular web frameworks:

| Framework | Language | Best for | Learning curve |
|---|---|---|---|
| Django | Python | Full-featured apps | Moderate |
| Flask | Python | Small services, APIs | Gentle |
| Express | JavaScript | Node.js backends | Gentle |

**In short:** pick *Django* if you want batteries included, *Flask* if you want to choose each piece yourself.""",

    """### Steps to set up SSH keys

1. Generate a key pair:
   ```bash
   ssh-keygen -t ed25519 -C "you@example.com"
   ```
2. Start the agent and add the key:
   ```bash
   eval "$(ssh-agent -s)"
   ssh-add ~/.ssh/id_ed25519
   ```
3. Copy the public key to the server with `ssh-copy-id user@host`.

That's it: you can now log in without a password.""",

    """The derivative of $f(x) = x^2$ is $f'(x) = 2x$. More generally, for any power:

$$\\frac{d}{dx} x^n = n x^{n-1}$$

So for $x^3$ you get $3x^2$.""",

    """Great question! The main causes of inflation are:

* **Demand-pull inflation** - when demand exceeds supply
* **Cost-push inflation** - when production costs rise
  * Wages
  * Raw materials, e.g. oil
* **Built-in inflation** - expectations of future price rises

A coffee that cost $2 in 2010 might cost $3.50 today.""",

    """Here is a simple **bash** script that backs up a folder:

```bash
#!/usr/bin/env bash
set -euo pipefail
SOURCE="$HOME/documents"
TARGET="/mnt/backup/$(date +%F)"
mkdir -p "$TARGET"
rsync -a --delete "$SOURCE/" "$TARGET/"
echo "Backed up to $TARGET"
```

Run it daily with cron: `0 2 * * * /usr/local/bin/backup.sh`.""",

    """# Paris in three days

## Day 1: the classics
- Morning: the **Louvre** (book tickets online!)
- Afternoon: walk along the *Seine* to Notre-Dame
- Evening: dinner in Le Marais

## Day 2: Montmartre
- Sacré-Cœur at sunrise
- Lunch at a café on Place du Tertre

---

*Tip:* the [Paris Museum Pass](https://www.parismuseumpass.fr/) saves money if you visit more than four museums.""",

    """To center a `div` with CSS, the modern way is **flexbox**:

```css
.parent {
  display: flex;
  justify-content: center;
  align-items: center;
}
```

Or with grid, in one line: `place-items: center;`. Both work in every current browser.""",

    """**Pros:**
- Fast startup
- Small memory footprint

**Cons:**
- Fewer libraries
- Smaller community

Overall, it's a good fit for *command-line tools* but less so for large web applications.""",

    """The time complexity of binary search is $O(\\log n)$, because each step halves the range:

1. Compare the target with the middle element.
2. If equal, return its index.
3. Otherwise, search the left or right half.

In the worst case you do about $\\log_2 n$ comparisons; for $n = 1{,}000{,}000$ that's roughly 20.""",

    """Here's a SQL query that finds the top 5 customers by total spend:

```sql
SELECT c.name, SUM(o.total) AS spent
FROM customers c
JOIN orders o ON o.customer_id = c.id
GROUP BY c.name
ORDER BY spent DESC
LIMIT 5;
```

Make sure `orders.customer_id` has an index, or the join will be slow on large tables.""",

    """> "The best way to predict the future is to invent it."
> — Alan Kay

This quote is often used to describe the spirit of **Xerox PARC**, where Kay worked on Smalltalk and the Dynabook concept.""",

    """Let me break that down:

1. **Install the package**
   - On macOS: `brew install jq`
   - On Debian/Ubuntu: `sudo apt install jq`
2. **Try it on a file**
   - `jq '.name' package.json` prints the name
   - `jq -r '.scripts | keys[]' package.json` lists the scripts
3. **Pipe from curl**: `curl -s https://api.github.com/repos/jqlang/jq | jq .stargazers_count`""",

    """The word *"serendipity"* means finding something good without looking for it. It was coined by Horace Walpole in 1754, after the Persian fairy tale *The Three Princes of Serendip*.

Example: *It was pure serendipity that we met at the airport.*""",

    """| Planet | Distance from Sun (AU) | Moons |
|:--|--:|:-:|
| Mercury | 0.39 | 0 |
| Venus | 0.72 | 0 |
| Earth | 1.00 | 1 |
| Mars | 1.52 | 2 |
| Jupiter | 5.20 | 95 |

Jupiter has by far the most *confirmed* moons among the inner five.""",

    """Here's a React component that counts clicks:

```jsx
import { useState } from "react";

export default function Counter() {
  const [count, setCount] = useState(0);
  return <button onClick={() => setCount(count + 1)}>Clicked {count} times</button>;
}
```

The `useState` hook returns the current value and a setter; calling the setter re-renders the component.""",

    """### Summary

- **Revenue** grew 12% year over year to $4.2 billion.
- **Operating margin** fell from 18% to 16%, mainly due to higher *logistics* costs.
- The company expects growth of 8-10% next year.

### Risks
1. Currency exposure (about 40% of sales are in euros)
2. A pending antitrust case in the EU""",

    """You can read a file line by line in Go like this:

```go
f, err := os.Open("data.txt")
if err != nil {
    log.Fatal(err)
}
defer f.Close()
scanner := bufio.NewScanner(f)
for scanner.Scan() {
    fmt.Println(scanner.Text())
}
```

Note that `bufio.Scanner` has a default maximum line length of 64 KiB; use `scanner.Buffer` for longer lines.""",

    """**Short answer:** yes, but with caveats.

**Longer answer:** HTTP/2 multiplexes many requests over one TCP connection, so *head-of-line blocking* moves from HTTP to TCP: one lost packet stalls every stream. HTTP/3 fixes this by running over **QUIC** (UDP), where streams are independent.

See [RFC 9114](https://www.rfc-editor.org/rfc/rfc9114) for the details.""",

    """Sure, here's a haiku about autumn:

*Crimson leaves drifting*
*the old pond holds the cold sky*
*a crow calls, then none*""",

    """To fix the `ModuleNotFoundError`:

1. Check which Python you're running: `python -c "import sys; print(sys.executable)"`
2. Install the package into **that** interpreter: `python -m pip install requests`
3. If you use a virtual environment, make sure it's activated (`source .venv/bin/activate`).

If it still fails, the module name might differ from the package name (e.g. `import cv2` comes from `opencv-python`).""",

    """The formula for compound interest is:

$$A = P\\left(1 + \\frac{r}{n}\\right)^{nt}$$

where:
- $A$ is the final amount
- $P$ is the principal
- $r$ is the annual rate (e.g. 0.05 for 5%)
- $n$ is the number of times interest compounds per year
- $t$ is the number of years""",

    """## Git cheat sheet

| Task | Command |
|---|---|
| Create a branch | `git switch -c feature` |
| Undo the last commit, keep changes | `git reset --soft HEAD~1` |
| See what changed | `git diff --stat` |
| Pipe in a cell | `a \\| b` |

> **Warning:** `git push --force` rewrites history for everyone; prefer `--force-with-lease`.""",

    """Here's the plan for your week:

- **Monday**
  - Gym at 7am
  - Finish the report
- **Tuesday**
  - Team meeting at 10am
    - Prepare slides
    - Send the agenda
- **Wednesday**: rest day""",

    """There are a few things to consider when choosing a database:
- How much data you expect
- Whether you need transactions
- How the data is queried

For most web apps, **PostgreSQL** is a safe default.""",

    """Python's `__init__` method is the *initialiser*, not the constructor: `__new__` creates the object, and `__init__` sets it up. For example, `snake_case_names` and `__dunder__` methods are conventions, not keywords.

2 * 3 * 4 = 24, and a*b*c is just text.""",

    """Here is an example of an unfinished thought with **bold that never closes

and a second paragraph with a list:
- a
- b""",

    """```python
def fibonacci(n):
    \"\"\"Return the n-th Fibonacci number.\"\"\"
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
```

This runs in $O(n)$ time and $O(1)$ memory. For very large `n`, use the matrix form or fast doubling.""",

    """Key dates:

3. March 1861: Lincoln's inauguration
4. April 1861: Fort Sumter

Important: the war began in **April 1861** and ended in *April 1865*.""",

    """The HTML `<details>` element makes a disclosure widget:

```html
<details>
  <summary>Click me</summary>
  <p>Hidden content.</p>
</details>
```

Write `<br>` for a line break, and escape `&` as `&amp;` in text. Never put <script>alert(1)</script> into a page you don't control.""",

    """Results of the benchmark (lower is better):

| Run | Time (ms) | Notes
|---|---|---|
| Baseline | 120 | -
| Cached | 35 |
| Cached + gzip | 41 | slower to *compress*

***Conclusion:*** caching helps most; gzip adds a little CPU time.""",

    """Setext headings are rare in model output
=========================================

but they happen, and so does a paragraph
lazy continuation in a quote:

> first line
second line continues the quote""",
]
