"""Exercise 05.6 (derivation): how much a moving average of the weights shrinks an orbit around the
equilibrium. The checker compares with a simulation of the average; it accepts the closed form,
rejects typical wrong answers, and reports a stub as not attempted."""

import cmath
import math

import pytest

from course_lib import exercises


def correct(beta, omega):
    return (1 - beta) / abs(1 - beta * cmath.exp(-1j * omega))


def test_closed_form_is_accepted(capsys):
    assert exercises.check_orbit_shrink(correct) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda beta, omega: 1 - beta,  # forgets the rotation
    lambda beta, omega: (1 - beta) / (1 - beta),  # no shrinking at all
    lambda beta, omega: (1 - beta) / abs(1 + beta * cmath.exp(-1j * omega)),  # sign slip
    lambda beta, omega: (1 - beta) / math.sin(omega) if math.sin(omega) else 0.0,  # small-angle guess
])
def test_wrong_answers_are_rejected(wrong):
    with pytest.raises(AssertionError):
        exercises.check_orbit_shrink(wrong)


def test_a_stub_is_not_attempted(capsys):
    def stub(beta, omega):
        raise NotImplementedError
    assert exercises.check_orbit_shrink(stub) is False
