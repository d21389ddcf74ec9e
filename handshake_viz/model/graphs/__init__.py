"""TCP's graphs of one connection, as data: `build` gathers a connection's rows and computes
one kind (`series`: time-sequence, round-trip time, bytes in flight, window); `acks` applies
tshark's ack-RTT rule, `window` its window scaling, `rates` in-flight bytes and throughput;
`columns` and `frames` pick a connection's rows out of the timeline and re-read the few
packets whose fields the timeline does not keep."""
