"""The course tools, for its authors: guides, tags, tours, updates, the kit.

guide (a step's README), snippets (its code checked against the checkpoint),
tours, tagging (the step-N tags), updating and source_record (`workshop
update`), kit (the offline wheels), authoring (`make test`'s guard), and the
benchmarks of the tool itself: loop_bench (`workshop bench --loop`) and
room_bench (`workshop bench --room`).
"""
