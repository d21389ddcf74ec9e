"""Reading a big capture in several processes: `decode_worker` decodes in a second process
while the first tracks (``--print``); `index_worker` builds the TUI's rows, one process per
core, each for its share of the streams."""
