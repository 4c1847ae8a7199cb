"""Red-team catalogue for jacode's code-execution verdicts (issue 14): attacks as data, a measuring script, tests."""
