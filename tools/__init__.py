"""The ``mynacard`` command line."""
