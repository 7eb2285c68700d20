"""The Eddystone-EID computation, as google/eddystone's eid-computation.md specifies it.

A band and the service share a 128-bit identity key. Every 2^K seconds of the band's own time
counter, the band advertises a new 8-byte ephemeral id; without the key, two ids of one band
cannot be linked, so a listener in the venue cannot follow a band from one day to the next.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_EXPONENT = 15  # the spec's range for the rotation period exponent K


def _aes(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305  (single-block PRF, per spec)
    return encryptor.update(block) + encryptor.finalize()


def temporary_key(identity_key: bytes, counter: int) -> bytes:
    """AES(identity key, 11×00 ‖ FF ‖ 00 00 ‖ top 16 bits of the counter); changes every 65,536 s."""
    counter &= 0xFFFFFFFF
    block = bytes(11) + b"\xff" + bytes(2) + (counter >> 16).to_bytes(2, "big")
    return _aes(identity_key, block)


def compute_eid(identity_key: bytes, exponent: int, counter: int, tk: bytes | None = None) -> bytes:
    """The 8-byte ephemeral id for a band time counter (seconds) and rotation exponent K."""
    if len(identity_key) != 16:
        raise ValueError("identity keys are 16 bytes (AES-128)")
    if not 0 <= exponent <= MAX_EXPONENT:
        raise ValueError(f"rotation exponent must be 0..{MAX_EXPONENT}")
    counter &= 0xFFFFFFFF
    quantised = counter & ~((1 << exponent) - 1) & 0xFFFFFFFF
    block = bytes(11) + bytes((exponent,)) + quantised.to_bytes(4, "big")
    return _aes(tk if tk is not None else temporary_key(identity_key, counter), block)[:8]
