"""Twelve everyday questions put to candidate local models: their answers and speed.

    .venv/bin/python bench/everyday_prompts.py MODEL.gguf [MODEL.gguf ...] [--json out.json]

Each model answers with the app's own sampling (temperature 0.7, top-p 0.95,
repeat penalty 1.1, a fixed seed) through llama-cpp-python's
create_chat_completion, i.e. the GGUF's own chat template; a model without
one (a base model) gets the transcript prompt the app used for Gemma 3 270M.
Prints every answer, for grading by hand (0: wrong or useless, 1: partly
right, 2: right and useful), and tokens per second of generation.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (instructions or None, earlier turns, the question)
PROMPTS = [
    (None, [], "What is the capital of Australia?"),
    (None, [], "What is 15% of 80?"),
    (None, [], "Write a Python function that checks whether a string is a palindrome."),
    (None, [], "Give me three tips for sleeping better."),
    (None, [], 'Translate "Where is the train station?" into French.'),
    (None, [], "Explain in two sentences what photosynthesis is."),
    (None, [], "I have 3 apples, buy 5 more and eat 2. How many apples do I have?"),
    (None, [], "Write a short, polite email declining a meeting invitation for Friday."),
    (None, [], "What is the difference between a list and a tuple in Python?"),
    (None, [("user", "My name is Ana and I live in Lisbon."), ("assistant", "Nice to meet you, Ana! How can I help?")],
     "Which country do I live in, and what is my name?"),
    ("Answer in exactly one sentence.", [], "Why is the sky blue?"),
    (None, [], "How do I convert 30 degrees Celsius to Fahrenheit?"),
]


def messages_for(instructions, turns, question):
    system = [{"role": "system", "content": instructions}] if instructions else []
    return system + [{"role": r, "content": t} for r, t in turns] + [{"role": "user", "content": question}]


def transcript(messages):
    from app.providers.local import PREAMBLE, STOP

    speakers = {"user": "User", "assistant": "Assistant"}
    instructions = "".join(f"{m['content']}\n\n" for m in messages if m["role"] == "system")
    turns = "".join(f"{speakers[m['role']]}: {m['content']}\n" for m in messages if m["role"] != "system")
    return f"{PREAMBLE}{instructions}{turns}Assistant:", STOP


def answer(llm, messages, max_tokens):
    sampling = dict(max_tokens=max_tokens, temperature=0.7, top_p=0.95, repeat_penalty=1.1, seed=1, stream=True)
    if llm.metadata.get("tokenizer.chat_template"):
        parts = llm.create_chat_completion(messages, **sampling)
        texts = (p["choices"][0]["delta"].get("content") or "" for p in parts)
    else:
        prompt, stop = transcript(messages)
        parts = llm.create_completion(prompt, stop=stop, **sampling)
        texts = (p["choices"][0]["text"] for p in parts)
    arrivals, text = [], ""
    for piece in texts:
        if piece:
            arrivals.append(time.perf_counter())
            text += piece
    speed = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 2 else float("nan")
    return text.strip(), speed, len(arrivals)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json")
    args = parser.parse_args()
    from llama_cpp import Llama

    results = {}
    for path in args.models:
        llm = Llama(model_path=path, n_ctx=4096, n_threads=args.threads, verbose=False)
        name = llm.metadata.get("general.name", Path(path).name)
        results[name] = []
        for instructions, turns, question in PROMPTS:
            text, speed, tokens = answer(llm, messages_for(instructions, turns, question), args.max_tokens)
            results[name].append({"question": question, "answer": text, "tokens_per_second": speed, "tokens": tokens})
            print(f"### {name} | {question}\n{text}\n[{tokens} tokens, {speed:.1f} tokens/s]\n", flush=True)
        del llm
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
