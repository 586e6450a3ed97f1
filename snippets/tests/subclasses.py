"""Walking class hierarchies in tests that check every entity or every table
class.
"""


def subclasses[T](cls: type[T]) -> list[type[T]]:
    """Every subclass of `cls`, at any depth (`MessagesTable` extends
    `OwnedTable`, which extends `BaseTable`).
    """
    return [
        sub
        for child in cls.__subclasses__()
        for sub in (child, *subclasses(child))
    ]
