"""Tests of the note ``hochreiter1997``."""
