"""The capture lab: network namespaces of the project's own, real programs talking across
them through impairments, tcpdump recording; and captures made by hand where real programs
cannot show a case. Used by the tests and by ``scripts/lab``."""
