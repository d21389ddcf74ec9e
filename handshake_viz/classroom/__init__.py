"""Classroom mode: a teacher makes each socket call happen with a key, in English or Chinese.

- `stepper`: real sockets on loopback, one call per key, with the reason a key is disabled;
- `guided`: each demo scenario as a script of steps to say, do and look at;
- `procnet`: the kernel's own view of each socket (``/proc/net/tcp``, ``/proc/net/tcp6``);
- `lesson`: a live capture running beside the stepper;
- `handout`: the lesson written out for students;
- `screen`: the Textual layout (the only module here that imports textual).
"""
