"""The demo: a standard-library TCP/UDP server and client on loopback, written as a teacher
would write them, whose every socket call is reported on the packets' timeline, and the
scenarios that pair them (``handshake-viz demo --list``)."""
