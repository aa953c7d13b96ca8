"""Password rules, password hashing and the `next` check."""

import pytest

from portal.access import safe_next
from portal.security import hash_password, password_problem, verify_password


@pytest.mark.parametrize(
    ("password", "username", "expected"),
    [
        ("", "anna", "at least 8"),
        ("Ab1-xyz", "anna", "at least 8"),
        ("x" * 129, "anna", "at most 128"),
        ("password", "anna", "too common"),
        ("PASSWORD", "anna", "too common"),
        ("12345678", "anna", "too common"),
        ("qwerty123", "anna", "too common"),
        ("iloveyou", "anna", "too common"),
        ("Blue.Canyon-7", "blue.canyon-7", "same as the username"),
        ("aaaaaaaaaa", "anna", "easy to guess"),
        ("anna1234", "anna", "easy to guess"),
        ("monkey123", "anna", "easy to guess"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, username, expected):
    problem = password_problem(password, username, f"{username}@example.com")
    assert problem is not None and expected in str(problem)


@pytest.mark.parametrize(
    "password", ["plum-orbit-canvas-71", "Ужасно длинный пароль 2026", "x7#Lq!v9Zr", "p" * 20 + "Q7!z"]
)
def test_good_passwords_pass(password):
    assert password_problem(password, "anna", "anna@example.com") is None


def test_a_password_made_of_the_email_is_easy_to_guess():
    assert "easy to guess" in str(password_problem("marina.k@mail.ru", "mk", "marina.k@mail.ru"))


def test_hashes_are_argon2id_salted_and_verifiable():
    first, second = hash_password("plum-orbit-canvas-71"), hash_password("plum-orbit-canvas-71")
    assert first != second and first.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in first
    assert verify_password(first, "plum-orbit-canvas-71")
    assert not verify_password(first, "plum-orbit-canvas-72")
    assert not verify_password("not-a-hash", "anything")
    assert not verify_password("", "")


@pytest.mark.parametrize("target", ["/profile", "/client/slots?page=2&x=%2F", "/", "/a/b#c"])
def test_local_paths_are_safe(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.com",
        "///evil.com",
        "https://evil.com",
        "http://evil.com/profile",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,hi",
        " //evil.com",
        "/\t/evil.com",
        "/\r\n/evil.com",
        "/\x00/evil.com",
        "evil.com",
        "profile",
        "/" + "a" * 3000,
    ],
)
def test_everything_else_is_refused(target):
    assert safe_next(target) is None
