"""Everyday questions put to local models, as the app puts them: answers and speed.

    .venv/bin/python bench/everyday_prompts.py [MODEL.gguf ...] [--json out.json]

No model named: the app's default (app.providers.local_weights). Each model
answers with the app's own sampling and max tokens (LocalChatModel's, plus a
fixed seed) through llama-cpp-python's create_chat_completion, i.e. the
GGUF's own chat template, the messages built as the app builds them
(chat_messages, fit_context); a model without a template (a base model) gets
the transcript prompt the app gives one. Prints every answer, for grading by
hand (0: wrong or useless, 1: partly right, 2: right and useful), and tokens
per second of generation. The grades of the default are in docs/local_model.md.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answers.model_history import to_chat_messages  # noqa: E402
from app.config import load_config  # noqa: E402
from app.providers.local import build_local_model, load_llama, piece_text, start_completion  # noqa: E402

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
    # What a newcomer tries next: memory of two turns back, a short list, a
    # unit conversion, a small code question, a translation the other way.
    (None, [("user", "My sister Lena turns 30 next week, and she loves astronomy."),
            ("assistant", "How lovely! Happy early birthday to Lena. Are you looking for gift ideas?"),
            ("user", "Yes, but first: is a telescope a good gift for a beginner?"),
            ("assistant", "Yes: a small refractor or a Dobsonian is easy to set up and shows the Moon, "
                          "planets and bright clusters well.")],
     "Great. Now write a two-line birthday card message for her that fits her hobby."),
    (None, [], "List five vegetables that are high in vitamin C."),
    (None, [], "How many kilometres is 26.2 miles?"),
    (None, [], "What does len([1, [2, 3], 4]) return in Python, and why?"),
    (None, [], "What does \"Je voudrais un café, s'il vous plaît\" mean in English?"),
]


def messages_for(instructions, turns, question):
    """The conversation as LangChain messages, as the app hands them to the model."""
    return to_chat_messages([*turns, ("user", question)], instructions)


def answer(llm, model, messages, seed):
    """The app's own request (start_completion), with a fixed seed."""
    arrivals, text = [], ""
    for part in start_completion(llm, model, messages, seed=seed):
        piece = piece_text(part["choices"][0])
        if piece:
            arrivals.append(time.perf_counter())
            text += piece
    speed = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 2 else float("nan")
    return text.strip(), speed, len(arrivals)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", help="GGUF files (none: the app's default model)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sampling", default="", metavar="top_k=20,top_p=0.8",
                        help="the app's sampling with these changed (to try other settings)")
    parser.add_argument("--json")
    args = parser.parse_args()
    config = load_config({"CHAT_PROVIDER": "local", "CHAT_DEBUG": "1", **os.environ})
    model = build_local_model(config)  # the app's settings: sampling, max tokens, threads
    changes = dict(pair.split("=") for pair in args.sampling.split(",") if pair)
    model = model.model_copy(update={name: type(getattr(model, name))(value) for name, value in changes.items()})

    results = {}
    for path in args.models or [model.model_path]:
        llm = load_llama(path, model.threads)
        name = llm.metadata.get("general.name", Path(path).name)
        results[name] = []
        for instructions, turns, question in PROMPTS:
            text, speed, tokens = answer(llm, model, messages_for(instructions, turns, question), args.seed)
            results[name].append({"question": question, "answer": text, "tokens_per_second": speed, "tokens": tokens})
            print(f"### {name} | {question}\n{text}\n[{tokens} tokens, {speed:.1f} tokens/s]\n", flush=True)
        llm.close()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
