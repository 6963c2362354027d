"""The demo marketplace that `make run` and the tests load."""
