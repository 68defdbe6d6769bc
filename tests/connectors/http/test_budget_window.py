"""The bucketed sliding window of the shared request budget: counts and waits."""

from __future__ import annotations

import pytest

from integrator.connectors.http.budget_window import BucketWindow


def test_a_request_counts_until_all_of_its_bucket_is_older_than_the_window() -> None:
    window = BucketWindow(window_seconds=30.0, buckets=30)  # 1 s buckets
    counts = {window.bucket_of(1000.2): 3}

    assert window.used(1029.9, counts) == 3
    # the bucket [1000, 1001) overlaps the window (1000.5, 1030.5]: still counted
    assert window.used(1030.5, counts) == 3
    assert window.used(1031.0, counts) == 0


def test_room_is_what_the_counted_buckets_leave_of_the_limit() -> None:
    window = BucketWindow(window_seconds=10.0, buckets=10)
    counts = {100: 2, 105: 3, 90: 50}  # bucket 90 is long gone at t=108

    assert window.room(108.0, counts, max_requests=6) == 1
    assert window.room(108.0, counts, max_requests=4) == 0


def test_a_full_window_has_room_again_when_its_oldest_busy_bucket_leaves() -> None:
    window = BucketWindow(window_seconds=10.0, buckets=10)
    counts = {100: 0, 103: 4, 106: 1}

    # bucket 103 ends at 104 and leaves the window 10 s later
    assert window.wait_for_room(105.0, counts) == pytest.approx(9.0)


def test_a_token_may_be_used_until_the_end_of_the_bucket_it_was_counted_in() -> None:
    window = BucketWindow(window_seconds=300.0, buckets=30)

    assert window.width == 10.0
    assert window.expiry(window.bucket_of(1234.5)) == 1240.0


def test_a_window_without_length_or_buckets_is_refused() -> None:
    with pytest.raises(ValueError):
        BucketWindow(window_seconds=0.0)
    with pytest.raises(ValueError):
        BucketWindow(window_seconds=1.0, buckets=0)
