"""Developer tooling for eco2 (the `eco2` CLI). Never shipped in a function image."""
