"""Your data, in the account area: take it away (the exports), bring it back
(import an export file), or delete all of it.

Plain forms with the page's CSRF token, so they work without JavaScript;
gated like the page when sign-in is on. A result is a redirect back to the
page saying what was done (reloading it does nothing again); a refusal is
the page again with the sentence beside the form, and nothing done. Import
and Delete all are rate-limited per owner (app/web/action_limits.py).
Delete all keeps who the person is (their sign-in, an API key's binding):
it deletes what they keep, not them.
"""

from flask import current_app, redirect, render_template, request, session, url_for

from app.portability.importing import ImportRefused
from app.storage.engine import session_for
from app.storage.owner_data import delete_owner_content, owner_totals
from app.web.action_limits import DELETE_ALL, IMPORTS, admit_action
from app.web.import_input import import_for
from app.web.library import bp

CONFIRM_WORD = "DELETE"



def _count(request_args, name):
    value = request_args.get(name, "")
    return int(value) if value.isdigit() else None


def render_your_data(status=200, import_error="", delete_error=""):
    with session_for(current_app) as db:
        conversations, messages, files = owner_totals(db, session["owner"])
    done = {name: _count(request.args, name) for name in ("imported", "already", "deleted")}
    return render_template(
        "your_data.html", conversations=conversations, messages=messages, files=files, done=done,
        import_error=import_error, delete_error=delete_error, confirm_word=CONFIRM_WORD,
        import_max_mb=f"{current_app.config['CHAT'].import_max_mb:g}",
    ), status


@bp.get("/account/data")
def your_data():
    return render_your_data()


@bp.post("/account/data/import")
def import_file():
    chosen = request.files.get("file")
    if chosen is None or not chosen.filename:
        return render_your_data(400, import_error="Choose an export file (.json) first.")
    admit_action(current_app.extensions["limiter"], IMPORTS, session["owner"], request.remote_addr)
    try:
        result = import_for(session["owner"], chosen.stream)
    except ImportRefused as error:
        return render_your_data(error.status, import_error=f"{error.message} Nothing was imported.")
    return redirect(url_for("library.your_data", imported=result.added, already=result.already_here) + "#import",
                    code=303)


@bp.post("/account/data/delete")
def delete_everything():
    if request.form.get("confirm", "").strip() != CONFIRM_WORD:
        return render_your_data(400, delete_error=f"Type {CONFIRM_WORD} in the box to confirm. Nothing was deleted.")
    admit_action(current_app.extensions["limiter"], DELETE_ALL, session["owner"], request.remote_addr)
    with session_for(current_app) as db:
        deleted = delete_owner_content(db, session["owner"])
        db.commit()
    return redirect(url_for("library.your_data", deleted=deleted.conversations) + "#delete", code=303)
