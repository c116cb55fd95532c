#!/usr/bin/env python
"""Django's command-line utility for Omni."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni.settings")
    from django.core.management import execute_from_command_line

    from omni.core.environment import ConfigurationError

    try:
        execute_from_command_line(sys.argv)
    except ConfigurationError as error:
        # A bad environment is an operator's mistake, not a bug: one line, no traceback.
        sys.stderr.write(f"Configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
