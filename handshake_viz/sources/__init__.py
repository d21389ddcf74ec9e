"""Where events come from: a capture file or a pipe (`replay`), the network (`live`), and the
worker processes that read a big file in parallel (`parallel`). Each is an
`core.source.EventSource`, so the views never know which one feeds them."""
