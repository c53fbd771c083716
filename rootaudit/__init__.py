"""rootaudit: evidence on root access across an AWS Organization."""

__version__ = "0.2.0"
