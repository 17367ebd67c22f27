"""The dashboard app (Django label `numbers`): pages, the Staffify service module, and what Staffify
does not remember."""
