"""PADMÉ padding lengths for attachments.

An age file's length gives away its plaintext's length to within 16 bytes per 64 KiB
chunk. For an attachment that is enough for anyone holding the original document (an
official who wrote the leaked minutes, say) to confirm that it was submitted: they
look up a blob of the right size. Padding every attachment to a PADMÉ length before it
is encrypted leaves only a coarse bucket.

PADMÉ is from Kirill Nikitin, Ludovic Barman, Wouter Lueks, Matthew Underwood,
Jean-Pierre Hubaux and Bryan Ford, "Reducing Metadata Leakage from Encrypted Files and
Communication with PURBs", Proceedings on Privacy Enhancing Technologies 2019 (4),
section 4 (the algorithm as printed there). For a length ``L`` with ``E = floor(log2 L)``
and ``S = floor(log2 E) + 1``, the low ``E - S`` bits of the padded length are zero: it is
``L`` rounded up to a multiple of ``2 ** (E - S)``. A padded length then leaks
O(log log L) bits (beyond ``E``, only the ``S`` bits after its leading one), and the
padding is less than ``2 ** -S`` of ``L``: at most 11.7 % (129 bytes become 144), and at
most 3.2 % from 64 KiB to 4 GiB.

Written here rather than taken from a library: it is five lines of integer arithmetic,
the JavaScript side (assets/js/padding.js) must compute the very same numbers, and the
two are tested against each other (tests/crypto/test_padding.py).

The padding itself is zero bytes appended to the plaintext; the true length travels only
inside the encrypted report or message that lists the attachment (docs/crypto.md).
"""

from __future__ import annotations


def _low_bits(length: int) -> int:
    """How many low bits of ``length``'s PADMÉ length are forced to zero (``E - S``)."""
    exponent = length.bit_length() - 1  # E = floor(log2 L)
    return exponent - exponent.bit_length()  # S = floor(log2 E) + 1 = E.bit_length()


def padme_length(length: int) -> int:
    """The PADMÉ length for ``length`` bytes: the smallest padded length ``>= length``."""
    if length < 0:
        raise ValueError("a length cannot be negative")
    if length < 2:
        return length  # E = 0: nothing to round (the paper's formula needs E >= 1)
    mask = (1 << _low_bits(length)) - 1
    return (length + mask) & ~mask


def padme_max_padding(limit: int) -> int:
    """The most padding PADMÉ adds to any length up to ``limit`` (for size limits).

    ``E - S`` never decreases as ``L`` grows, so the widest bucket at or below ``limit``
    is ``limit``'s own.
    """
    if limit < 0:
        raise ValueError("a length cannot be negative")
    if limit < 2:
        return 0
    return (1 << _low_bits(limit)) - 1
