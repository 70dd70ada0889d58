"""Developer tools: the development server, the local production stack, catalogs.

None of this ships in the service's package; run each with `python -m tools.<name>`.
"""
