"""The signing secret: why it comes from `secrets`, not `random`."""

import random
import secrets

MASK = 0xFFFFFFFF


def undo_right_shift(value: int, shift: int) -> int:
    """Invert `value ^= value >> shift` (one step of the Mersenne Twister's
    output tempering).
    """
    result = value
    for _ in range(32 // shift + 1):
        result = value ^ (result >> shift)
    return result


def undo_left_shift(value: int, shift: int, mask: int) -> int:
    """Invert `value ^= (value << shift) & mask`."""
    result = value
    for _ in range(32 // shift + 1):
        result = value ^ ((result << shift) & mask)
    return result & MASK


def untemper(output: int) -> int:
    """The generator's internal word behind one 32-bit output."""
    value = undo_right_shift(output, 18)
    value = undo_left_shift(value, 15, 0xEFC60000)
    value = undo_left_shift(value, 7, 0x9D2C5680)
    return undo_right_shift(value, 11)


def test_random_gives_away_its_next_secret_after_624_outputs() -> None:
    """`random` is a Mersenne Twister: 624 of its 32-bit outputs (say, from 78
    earlier 256-bit secrets) rebuild its whole state, and with it every secret
    it makes next. `secrets` has no such state."""
    # S311 is the mistake this test shows; a seed the observer never learns.
    generator = random.Random(secrets.randbits(64))  # noqa: S311
    observed = [generator.getrandbits(32) for _ in range(624)]

    copy = random.Random()  # noqa: S311
    copy.setstate((3, (*map(untemper, observed), 624), None))

    # the next secret, predicted
    assert copy.randbytes(32) == generator.randbytes(32)
