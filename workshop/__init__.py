"""The `workshop` command: learner, instructor and author tools."""

__version__ = "0.1.0"
