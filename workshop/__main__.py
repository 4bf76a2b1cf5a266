"""`python -m workshop ...`: the workshop command without its installed script.

`setup` is routed first, before anything outside the standard library is
imported: it is what creates .venv (workshop/setup.py).
"""

import sys

if sys.argv[1:2] == ["setup"]:
    from workshop.setup import main as setup

    sys.exit(setup(sys.argv[2:]))

# after the route above, on purpose: setup must not import the command
from workshop.cli import main

sys.exit(main())
