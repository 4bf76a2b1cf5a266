"""One module per `workshop` command; `workshop/cli.py` calls them with typed
arguments, and they call each other as plain functions."""
