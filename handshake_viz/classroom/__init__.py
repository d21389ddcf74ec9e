"""Classroom mode: a teacher makes each socket call happen with a key, in English or Chinese.

- `script`, `lessons`: what a lesson is, and every lesson (one per demo scenario, then the
  lessons where the kernel loses a packet);
- `stepper`, `moves`: real sockets on loopback, one call per key, and the steps no single key
  makes (several clients, UDP, a burst of data); sockets stay open between steps;
- `guided`: walking a lesson forward and back, its words filled from this kernel's settings;
- `app`: a lesson set up: its port, its faults, its capture, its stepper (the CLI, serve and
  the tests start lessons here);
- `procnet`, `sockdiag`, `sysctls`, `kernelview`: the kernel's own view (its sockets, real
  backlogs, timers) and which of its sockets are the lesson's;
- `faults`: nftables rules that lose a chosen packet inside the lesson's own network;
- `lesson`: the live capture running beside the stepper;
- `explain_more`, `wrap`: what a lesson adds to an explanation, and wrapping Chinese right;
- `keyspanel`: the keys panel (each key, and why a disabled one makes no sense now);
- `screen`, `follow`, `download`: the Textual apps (a lesson; a student following the
  teacher) and export as a browser download;
- `session`, `web`: serve's tabs, their folders, and the teacher's stream;
- `handout`: the lesson written out for students.
"""
