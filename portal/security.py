"""Password hashing (Argon2id) and password rules."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from portal.i18n import lazy_gettext as _l

# OWASP's recommended Argon2id setting (19 MiB, 2 passes, 1 lane): strong, yet a login costs ~25 ms
# and a web process does not need 64 MiB per concurrent login. Older hashes keep their own parameters.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

# Checked before zxcvbn so the commonest choices are refused with certainty.
COMMON_PASSWORDS = {
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty123",
    "qwertyuiop",
    "11111111",
    "iloveyou",
    "abc12345",
    "letmein1",
    "passw0rd",
    "00000000",
    "qwerty12",
    "1q2w3e4r",
    "1qaz2wsx",
    "admin123",
    "welcome1",
    "sunshine",
    "football",
    "baseball",
    "princess",
}


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if the password matches the hash; a malformed hash is simply a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A valid hash to verify against when the account does not exist, so timing does not reveal it.
DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def password_problem(password: str, username: str = "", email: str = ""):
    """A user-facing reason the password is unacceptable, or None."""
    if len(password) < 8:
        return _l("Use at least 8 characters.")
    if len(password) > 128:
        return _l("Use at most 128 characters.")
    lowered = password.lower()
    if username and lowered == username.lower():
        return _l("The password must not be the same as the username.")
    if lowered in COMMON_PASSWORDS:
        return _l("This password is too common. Choose a less guessable one.")
    result = zxcvbn(password[:64], user_inputs=[u for u in (username, email) if u])
    if result["score"] < 2:
        return _l("This password is too easy to guess. Add more words or characters.")
    return None
