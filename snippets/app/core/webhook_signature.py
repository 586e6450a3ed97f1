"""Signing webhook bodies, and the check a receiver runs: HMAC-SHA256 over id,
time and body.
"""

import hashlib
import hmac

# --8<-- [start:webhook_signature]
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` value. Signing the id and time too stops replays
    of an old body.
    """
    message = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def is_valid_signature(
    secret: str,
    delivery_id: str,
    timestamp: int,
    body: bytes,
    signature: str,
    *,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and a signature compared in
    constant time.
    """
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(
        sign(secret, delivery_id, timestamp, body), signature
    )


# --8<-- [end:webhook_signature]
