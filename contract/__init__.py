"""What the site pipeline (sitebuild/) and the enquiry service (formsvc/) both rely on.

The two never import each other; both import this, so neither can drift from the other:

- ``csp``: the one Content-Security-Policy, for the site's _headers and <meta> and the service's header;
- ``manifest``: site-manifest.json, the file the finished site hands to the service;
- ``site_settings``: the settings of the site that pages and the form show, with their defaults.

Standard library only (tests/test_architecture.py checks): the site is built where Flask is
not installed, and the service runs where no site builder is.
"""
