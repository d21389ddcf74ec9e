"""Events and timelines turned into text without a terminal UI: the ``--print`` output (a text
ladder or JSONL), the ladder's lines and colours, and the exports (text, Mermaid, SVG)."""
