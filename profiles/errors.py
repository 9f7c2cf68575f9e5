"""The error of a profile that cannot be loaded."""


class ProfileError(ValueError):
    """A profile that cannot be loaded; the message names the file, the field and the problem."""
