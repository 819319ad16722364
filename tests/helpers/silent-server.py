#!/usr/bin/env python3
# silent-server.py: print a port on 127.0.0.1 whose server never answers a
# new connection (as a firewall that drops packets): it listens with a
# backlog of 0 and fills its accept queue itself, so the kernel drops
# every later SYN and a client's connect hangs. Ends after 60 s, or when
# killed.
import socket
import sys
import time

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.2)  # the queue is full once the handshakes are done
print(port, flush=True)
sys.stdout.close()
time.sleep(60)
