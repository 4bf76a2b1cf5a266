"""The room: every learner's repository, for the instructor."""
