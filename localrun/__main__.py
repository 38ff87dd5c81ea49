"""``python -m localrun``: the site, the form and the worker on http://127.0.0.1:8000/."""
import sys

from .localsite import main

sys.exit(main())
