"""capsnet_lib.exercises: the check runner and what the checks can ask of a solution's code."""

import pytest
import tensorflow as tf

from capsnet_lib.exercises import ExerciseNotSolved, check, names_used


def one_einsum(u, w):
    # a tf.einsum named in a comment does not count
    return tf.einsum("bi,ij->bj", u, w)  # nor "tf.one_hot" in a string


def two_einsums(u, w):
    return tf.einsum("bi,ij->bj", tf.einsum("bi->bi", u), w)


def test_names_used_counts_code_not_comments_or_strings():
    assert names_used(one_einsum)["einsum"] == 1
    assert names_used(one_einsum)["one_hot"] == 0
    assert names_used(two_einsums)["einsum"] == 2
    assert names_used(one_einsum)["tf"] == 1


def test_check_says_right_or_what_is_wrong(capsys):
    check("0.1", lambda: None)
    assert "Exercise 0.1: correct" in capsys.readouterr().out

    def wrong():
        assert names_used(two_einsums)["einsum"] == 1, "a single tf.einsum, please"

    with pytest.raises(ExerciseNotSolved, match="0.2: not right yet: a single tf.einsum"):
        check("0.2", wrong)

    def stub():
        raise NotImplementedError

    with pytest.raises(ExerciseNotSolved, match="not solved yet"):
        check("0.3", stub)
