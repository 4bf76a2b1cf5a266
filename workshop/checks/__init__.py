"""The checks: step suites run in a supervised child, and what they found.

suites (the parent: limits, spares, isolation), child (`python -m
workshop.checks.child`), plugin (pytest reports to step results), results,
summary (the lines check and status print), diagnose (known errors, their
fix), progress (the step you are on), appwatch (which saves count).
"""
