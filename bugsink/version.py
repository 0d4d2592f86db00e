"""The application's version: the API docs (/api/0/docs/) and its schema name it. Raised with each release of the
code; an installation run from a git checkout also has the commit in `git log`."""

VERSION = "0.23.0"
