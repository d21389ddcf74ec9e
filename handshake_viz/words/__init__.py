"""Every sentence and label a user sees, in their language.

`catalog` loads one TOML file per language from ``messages/`` (the list of languages is the
list of files); `explain` says what a packet or a socket call does, from those catalogs.
"""
