"""Communication guidelines: the rule model (`rules`), the pure checker (`checker`, `stream`,
`decisions` with its per-language `decision_lexicons` and their shared `decision_vocabulary`, `pii`, `normalize`) and, beside them, storage and routes.

The checker is pure: rules and text in, a verdict out; no I/O, so it can run on every message."""
