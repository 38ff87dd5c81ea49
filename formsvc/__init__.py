"""The enquiry service: takes a victim's enquiry and gets it to the hub's inbox.

Where things are: the app factory in ``app.py``, every setting in ``config.py``, each
question in ``questions.py`` (its words in other languages in ``translations/``, chosen by the address in
``i18n.py``), the pages in ``enquiry.py``, the hub's email in ``message.py``,
sealed in ``seal.py``, sent by ``transport.py``, the delivery loop in ``worker.py``, operator
commands in ``cli.py``.
What it shares with the site (the CSP, the site's manifest and settings) is in contract/.

``create_app`` is imported on first use, not here: ``python -m formsvc.config`` (docs/deploying.md's
table) would otherwise find the app, and with it config.py, already imported
and warn (runpy). ``flask --app formsvc`` and ``gunicorn 'formsvc:create_app()'`` find it.
"""


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
