#!/usr/bin/env python3
"""StartupWebApp's Django entry point (the seed's app, rebuilt as berth's Django example)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "StartupWebApp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
