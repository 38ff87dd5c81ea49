"""The whole thing on one origin on a developer's machine, as Netlify serves it.

Not part of the production service: ``localsite`` emulates Netlify (the built site
with its headers, /enquiry/* to the service) for ``make run`` and the tests.
"""
