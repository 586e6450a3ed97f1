"""The subjects (`sub`) of the tests' tokens: the principals that own rows in
the tests.
"""

OWNER = "user-1"
"""The subject of the token `make_token` signs by default, so most tests act as
this one principal.
"""

OTHER_OWNER = "user-2"
"""A second principal, for the tests that check one cannot reach another's
rows.
"""
