"""Classroom mode: a teacher makes each socket call happen with a key, in English or Chinese.

- `catalog`: the message catalogs (one TOML file per language in ``messages/``);
- `explain`: a sentence for every socket call and every packet, from the catalogs (the
  timeline TUI's explanations too, in its `--lang`);
- `procnet`: the kernel's own view of each socket (``/proc/net/tcp``, ``/proc/net/tcp6``);
- `stepper`: real sockets on loopback, one call per key, with the reason a key is disabled;
- `guided`: each demo scenario as a script of steps to say, do and look at;
- `capture`: a live capture running beside the stepper;
- `screen` and `serve`: the TUI layout and the browser version (these import textual).

Everything but `screen` and `serve` is free of UI code.
"""
