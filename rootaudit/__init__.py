"""rootaudit: evidence on root access across an AWS Organization."""

__version__ = "0.3.1"
