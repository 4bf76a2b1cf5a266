"""The room: an instructor's view of the learners.

During the session, live.py is the live room of `workshop room serve` (a
dashboard fed by the learners' own checks, memory only) and reporting.py the
learner's side of it: what `workshop join` stores and what check, watch and
status send. Nothing a learner wrote runs on the instructor's machine there.
After the session, review.py runs every learner's repository through the
checks (`workshop room REPO...`), isolated by sandbox.py.
"""
