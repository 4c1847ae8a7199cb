"""Synthetic post-training data: Magpie, persona-driven and test-verified instructions, scored preference pairs."""
