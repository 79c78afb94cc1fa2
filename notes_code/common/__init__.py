"""Shared experiment layer: statistics used by the experiment claims of every paper."""
