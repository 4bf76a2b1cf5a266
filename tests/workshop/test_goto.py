"""Tests of `workshop goto` and `workshop restore` on real temporary git repos."""

from __future__ import annotations


def test_fixture_repo_is_clean_and_app_is_step_0(workshop_repo, git) -> None:
    assert git(workshop_repo, "status", "--porcelain") == ""
    assert (
        git(
            workshop_repo,
            "diff",
            "--no-index",
            "--quiet",
            "app",
            "checkpoints/step-0/app",
        )
        == ""
    )
