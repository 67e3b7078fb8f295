"""Stands in for systemd's notify socket: binds an AF_UNIX SOCK_DGRAM socket
and prints one JSON line per datagram, with what PID 1 would check.

usage: notify-receiver.py SOCKET [WATCH_PATH]

Each line: {"at": epoch ms, "pid": sender pid from SCM_CREDENTIALS,
"alive": whether that pid still existed when the datagram was read (PID 1
drops messages it cannot attribute), "fds": file descriptors passed (a
BARRIER=1 carries one; closing it releases the sender, as PID 1 does),
"watched": whether WATCH_PATH existed at receipt, "fields": {VAR: value}}.
"""

import array
import json
import os
import socket
import struct
import sys
import time

path = sys.argv[1]
watch = sys.argv[2] if len(sys.argv) > 2 else None
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"bound": path}), flush=True)

ancillary = socket.CMSG_SPACE(struct.calcsize("iII")) + socket.CMSG_SPACE(16 * 4)
while True:
    data, ancdata, _flags, _addr = sock.recvmsg(65536, ancillary)
    at = time.time() * 1000
    pid = None
    fds = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[: struct.calcsize("iII")])[0]
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            received = array.array("i")
            received.frombytes(payload[: len(payload) - len(payload) % 4])
            fds.extend(received)
    alive = pid is not None and os.path.exists(f"/proc/{pid}")
    for fd in fds:
        os.close(fd)
    fields = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        if "=" in line:
            key, value = line.split("=", 1)
            fields[key] = value
    print(
        json.dumps(
            {
                "at": at,
                "pid": pid,
                "alive": alive,
                "fds": len(fds),
                "watched": watch is not None and os.path.exists(watch),
                "fields": fields,
            }
        ),
        flush=True,
    )
