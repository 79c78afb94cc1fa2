"""Claim tests of the note ``hochreiter1997``.

STUB written by ``notes new``: ``test_example_claim`` fails on purpose until the
claim is tested. Replace it (and the example claim in the note) with real ones.
"""

import pytest


@pytest.mark.claim("hochreiter1997/example-claim")
def test_example_claim() -> None:
    """STUB: check the example claim of the note (fails until written)."""
    # STUB from `notes new`: call the code in notes_code/ and assert what the claim says.
    pytest.fail("TODO: write this test of the note's example claim (stub from `notes new`)")
