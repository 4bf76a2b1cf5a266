"""Reading guides (headings, hints, code blocks) and checking their code."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.course.guide import Guide
from workshop.course.snippets import check_guide, compare

GOOD = """\
# Step 1 — Respond first

## Goal
Answer before the email is sent.

## Theory
```python
# not a heading: a comment in code
## nor this
```

## Exercise
Edit `app/main.py`.

## Check
Run `workshop check 1`.

## Hints
### Hint 1
Look at `BackgroundTasks`.

More text of hint 1.
### Hint 2
Use `add_task`.

## Pitfalls
None.

## Solution
Done.
"""

MAIN = """\
from fastapi import BackgroundTasks, FastAPI

from app.mailer import send_welcome

app = FastAPI()


@app.post("/subscribers")
def subscribe(email: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_welcome, email)
    return {"email": email}
"""


def block(body: str, title: str = "app/main.py") -> str:
    return f'```python title="{title}"\n{body}```\n'


def only_block(body: str, title: str = "app/main.py"):
    (found,) = Guide.parse(block(body, title)).blocks
    return found


def test_headings_inside_code_blocks_are_not_headings() -> None:
    guide = Guide.parse(GOOD)
    assert [h.text for h in guide.headings if h.level == 2] == [
        "Goal",
        "Theory",
        "Exercise",
        "Check",
        "Hints",
        "Pitfalls",
        "Solution",
    ]
    assert guide.title == "Step 1 — Respond first"


def test_a_complete_guide_has_no_problems() -> None:
    assert Guide.parse(GOOD).problems() == []


def test_hints_are_read_in_order_with_their_whole_text() -> None:
    hints = Guide.parse(GOOD).hints()
    assert hints == [
        "Look at `BackgroundTasks`.\n\nMore text of hint 1.",
        "Use `add_task`.",
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t.replace("## Pitfalls\n", ""), "no '## Pitfalls' section"),
        (lambda t: t.replace("# Step 1 — Respond first\n", ""), "no '# Step N"),
        (lambda t: t.replace("### Hint 2\nUse `add_task`.\n", ""), "has 1"),
        (lambda t: t.replace("### Hint 2", "### Hint 3"), "not numbered 1, 2"),
        (
            lambda t: (
                t.replace("## Goal\n", "## Tmp\n")
                .replace("## Theory\n", "## Goal\n")
                .replace("## Tmp\n", "## Theory\n")
            ),
            "out of order",
        ),
        (lambda t: t + "```python\nnever closed\n", "never closed"),
    ],
    ids=["section", "title", "one-hint", "numbering", "order", "unclosed"],
)
def test_a_guide_missing_part_of_its_shape_says_what(change, problem: str) -> None:
    problems = Guide.parse(change(GOOD)).problems()
    assert any(problem in p for p in problems), problems


def test_a_block_that_is_a_contiguous_excerpt_matches() -> None:
    excerpt = (
        '@app.post("/subscribers")\n'
        "def subscribe(email: str, tasks: BackgroundTasks) -> dict[str, str]:\n"
        "    tasks.add_task(send_welcome, email)\n"
    )
    assert compare(only_block(excerpt), MAIN, "app/main.py") is None


def test_omitted_lines_are_marked_with_an_ellipsis_comment() -> None:
    excerpt = (
        "from fastapi import BackgroundTasks, FastAPI\n"
        "\n"
        "# ...\n"
        "\n"
        "def subscribe(email: str, tasks: BackgroundTasks) -> dict[str, str]:\n"
        "    ...\n"
        '    return {"email": email}   \n'  # trailing spaces do not count
    )
    assert compare(only_block(excerpt), MAIN, "app/main.py") is None


def test_lines_left_out_without_a_marker_do_not_match() -> None:
    excerpt = "app = FastAPI()\n" + '@app.post("/subscribers")\n'
    problem = compare(only_block(excerpt), MAIN, "app/main.py")
    assert problem is not None
    # points at the guide's line 3 and the file's line 6 (the blank line)
    assert problem.startswith('line 3: `@app.post("/subscribers")` differs')
    assert "app/main.py:6" in problem


def test_lines_out_of_order_do_not_match() -> None:
    excerpt = "app = FastAPI()\n# ...\nfrom app.mailer import send_welcome\n"
    problem = compare(only_block(excerpt), MAIN, "app/main.py")
    assert problem == (
        "line 4: `from app.mailer import send_welcome` is not in app/main.py "
        "after line 5"
    )


def test_indentation_is_significant() -> None:
    excerpt = "tasks.add_task(send_welcome, email)\n"
    assert compare(only_block(excerpt), MAIN, "app/main.py") is not None


def test_a_changed_line_is_reported_with_both_versions() -> None:
    excerpt = 'app = FastAPI()\n\n\n@app.get("/subscribers")\n'
    problem = compare(only_block(excerpt), MAIN, "app/main.py")
    assert problem == (
        'line 5: `@app.get("/subscribers")` differs from '
        'app/main.py:8 `@app.post("/subscribers")`'
    )


def test_an_empty_block_is_a_problem() -> None:
    assert "empty" in compare(only_block("# ...\n"), MAIN, "app/main.py")


def checkpoint(tmp_path: Path) -> Path:
    folder = tmp_path / "checkpoints" / "step-1"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "main.py").write_text(MAIN, encoding="utf-8")
    (tmp_path / "secret.py").write_text("app = FastAPI()\n", encoding="utf-8")
    return folder


def test_check_guide_reads_the_named_file_of_the_checkpoint(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    text = (
        "Intro\n\n"
        + block("app = FastAPI()\n")
        + "\n```sh\nnot checked: no title\n```\n"
        + block("app = FastAPI()\n", title="app/missing.py")
        + block("app = FastAPI()\n", title="../../secret.py")
        + block("app = FastAPI(debug=True)\n")
    )
    problems = check_guide(Guide.parse(text), folder)
    assert problems == [
        "line 10: app/missing.py is not a file of step-1",
        "line 13: ../../secret.py is not a file of step-1",
        "line 17: `app = FastAPI(debug=True)` is not in app/main.py",
    ]


def test_single_quoted_titles_and_tilde_fences_count(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    text = "~~~python title='app/main.py'\napp = FastAPI(debug=True)\n~~~\n"
    assert check_guide(Guide.parse(text), folder) == [
        "line 2: `app = FastAPI(debug=True)` is not in app/main.py"
    ]
