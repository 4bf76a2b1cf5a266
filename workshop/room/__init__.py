"""The room: an instructor's view of the learners.

live.py is the live room of `workshop room serve` (a dashboard fed by the
learners' own checks, memory only); reporting.py is the learner's side of it,
what `workshop join` stores and what check, watch and status send. Nothing a
learner wrote runs on the instructor's machine: the room receives data only.
"""
