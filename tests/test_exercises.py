"""capsnet_lib.exercises: the check runner and what the checks can ask of a solution's code."""

import pytest
import tensorflow as tf

from capsnet_lib.exercises import ExerciseNotSolved, check, names_used, predicted
from capsnet_lib.explanations import EXPLANATIONS
from tests.test_chapter_conventions import CHAPTERS, CHECK_CALL, code_cells, tags


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


def test_a_prediction_is_explained_when_right_and_when_wrong(capsys):
    def compare(prediction, measured=3):
        def test():
            assert predicted(prediction) == measured, f"you predicted {prediction}"

        return test

    why = "Each of the 3 parents gets one share."
    check("0.4", compare(3), explain=why)
    assert capsys.readouterr().out.splitlines() == ["Exercise 0.4: correct ✓", why]
    with pytest.raises(ExerciseNotSolved, match=r"you predicted 5(.|\n)*\nEach of the 3 parents"):
        check("0.4", compare(5), explain=why)
    with pytest.raises(ExerciseNotSolved, match="not solved yet") as unanswered:
        check("0.4", compare(None), explain=why)
    assert why not in str(unanswered.value), "an unanswered prediction must not get the answer"
    long_why = "A reason " * 40
    check("0.5", compare(3), explain=long_why)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 2 and max(map(len, lines)) <= 88, "an explanation wraps at 88 columns"


def test_the_explanations_live_in_the_library_not_in_the_check_cells(capsys):
    """A check cell sits right below its question: its source must not hold the answer."""
    check("1.2", lambda: None)
    printed = capsys.readouterr().out.splitlines()[1:]
    assert " ".join(printed) == EXPLANATIONS["1.2"]
    for path in CHAPTERS:
        for cell in code_cells(path):
            if "check" in tags(cell):
                assert "explain=" not in cell["source"], f"{path.name}: {cell['source'][-200:]}"
    predict_exercises = {
        number
        for path in CHAPTERS
        for cell in code_cells(path)
        if "check" in tags(cell) and "predicted(" in cell["source"]
        for number in CHECK_CALL.findall(cell["source"])
    }
    assert predict_exercises <= EXPLANATIONS.keys(), "a predict-then-run check without its why"
