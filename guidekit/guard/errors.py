"""The one exception every checker raises: what is wrong with a fence, and what to do."""


class FenceError(Exception):
    """A fence that its checker could not verify; the message names the fence and the fix."""
