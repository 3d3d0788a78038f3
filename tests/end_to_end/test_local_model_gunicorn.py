"""The local model in a real gunicorn gevent worker: answers asked at once
take turns, and the worker keeps serving everything else meanwhile."""

import threading

import requests

from deploy.stack import gunicorn

ANSWERS = 4


def test_answers_asked_at_once_take_turns_while_the_worker_serves_others(tmp_path, small_local_model):
    env = {"CHAT_PROVIDER": "local", "CHAT_LOCAL_MODEL_PATH": small_local_model, "CHAT_LOCAL_MAX_TOKENS": "160"}
    order, answers = [], {}

    def ask(number):
        with requests.post(f"{base}/api/chat/stream", json={"message": f"Count from {number} to 100."},
                           stream=True, timeout=600) as response:
            answers[number] = response.text
        order.append(f"answer {number} ended")  # list.append is atomic

    with gunicorn(tmp_path, env) as (base, log_path, _process):
        askers = [threading.Thread(target=ask, args=(number,)) for number in range(ANSWERS)]
        for asker in askers:
            asker.start()
        # /healthz answers while one answer is generated and the others wait
        # their turn in the same worker (with a wait that blocked the worker,
        # it would not answer until gunicorn killed the worker).
        while any(asker.is_alive() for asker in askers):
            health = requests.get(f"{base}/healthz", timeout=120).json()
            if health["model_streams_open"] == ANSWERS:
                order.append("healthz answered with every answer in the worker")
                break
        for asker in askers:
            asker.join(timeout=600)
        log = log_path.read_text()

    assert sorted(answers) == list(range(ANSWERS)), (answers, log)
    for number, text in answers.items():
        assert text.strip() and "[chat error]" not in text, (number, text, log)
    assert "WORKER TIMEOUT" not in log
    assert order[0] == "healthz answered with every answer in the worker", order
    assert len(order) == ANSWERS + 1, order
