"""What ships for production: the Dockerfile, nginx and gunicorn settings, precompress.py.

A package only so the local stack (tools/stack) can import precompress.py, the step the
web image runs at build time.
"""
