"""The webhook signature: what a receiver checks before trusting a delivery."""

from app.core.webhook_signature import is_valid_signature, sign

SECRET = "k" * 43
BODY = b'{"id":"d-1","event":"message.created"}'


def test_a_receiver_accepts_the_signed_body() -> None:
    signature = sign(SECRET, "d-1", 1_700_000_000, BODY)

    assert signature.startswith("v1=")
    assert is_valid_signature(
        SECRET, "d-1", 1_700_000_000, BODY, signature, now=1_700_000_030
    )


def test_a_receiver_rejects_tampering_and_replays() -> None:
    signature = sign(SECRET, "d-1", 1_700_000_000, BODY)

    assert not is_valid_signature(
        SECRET, "d-1", 1_700_000_000, BODY + b" ", signature, now=1_700_000_000
    )
    assert not is_valid_signature(
        "x" * 43, "d-1", 1_700_000_000, BODY, signature, now=1_700_000_000
    )
    assert not is_valid_signature(
        SECRET, "d-2", 1_700_000_000, BODY, signature, now=1_700_000_000
    )
    # too old
    assert not is_valid_signature(
        SECRET, "d-1", 1_700_000_000, BODY, signature, now=1_700_000_301
    )
