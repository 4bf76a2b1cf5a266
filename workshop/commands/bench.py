"""`workshop bench`: measure that the response does not wait (see workshop/bench/).

The bench package is imported only when this command runs: it needs httpx and
starts servers, which no other command does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workshop.bench import Settings


def bench(settings: Settings) -> int:
    if settings.room:
        from workshop.course.room_bench import main as room_main

        return room_main(settings)
    if settings.loop:
        from workshop.course.loop_bench import main as loop_main

        return loop_main(settings)
    from workshop.bench.runner import main as bench_main

    return bench_main(settings)
