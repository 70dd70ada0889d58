"""Staff authentication: accounts, passwords, TOTP, server-side sessions and throttling.

Nothing here knows about Flask requests or cookies; the sign-in views do that.
"""
