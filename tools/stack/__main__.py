"""`python -m tools.stack start|stop|status`: see tools/stack/run.py."""

from tools.stack.run import main

main()
