#!/usr/bin/env python3
"""A TCP server on 127.0.0.1 that answers an HTTP/2 client wrongly, for the client's bad-peer tests.

usage: misbehaving-server.py MODE PORT

MODE is one of
  http1            an HTTP/1.1 server: every request gets "HTTP/1.1 404 Not Found" and the connection closes
  garbage          reads the client's first bytes, then sends 4 KiB of random bytes and keeps the connection open
  settings-garbage sends a valid empty SETTINGS frame, then random bytes, and keeps the connection open
  silent           accepts and reads, but never sends anything
  bad-frame        sends a valid SETTINGS frame, then a HEADERS frame on stream 2 (which a client never opens)

It serves at most 200 connections and exits by itself after 120 s.
"""
import random
import socket
import sys
import threading
import time

SETTINGS_EMPTY = bytes([0, 0, 0, 0x4, 0, 0, 0, 0, 0])
SETTINGS_ACK = bytes([0, 0, 0, 0x4, 0x1, 0, 0, 0, 0])


def frame(kind, flags, stream, payload):
    length = len(payload)
    return bytes([length >> 16 & 0xFF, length >> 8 & 0xFF, length & 0xFF, kind, flags]) + \
        stream.to_bytes(4, "big") + payload


def serve(mode, connection):
    connection.settimeout(30)
    rng = random.Random(7)
    try:
        if mode == "http1":
            connection.recv(65536)
            body = b"not a gRPC server\n"
            connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: "
                               + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            return
        if mode == "garbage":
            connection.recv(65536)
            connection.sendall(bytes(rng.getrandbits(8) for _ in range(4096)))
        elif mode == "settings-garbage":
            connection.sendall(SETTINGS_EMPTY)
            connection.recv(65536)
            connection.sendall(SETTINGS_ACK + bytes(rng.getrandbits(8) for _ in range(4096)))
        elif mode == "bad-frame":
            connection.sendall(SETTINGS_EMPTY)
            connection.recv(65536)
            # HEADERS, END_HEADERS, stream 2, with one indexed field (":status: 200" is index 8).
            connection.sendall(SETTINGS_ACK + frame(0x1, 0x4, 2, bytes([0x88])))
        # Keep the connection open (reading, so the client's writes do not block) until it closes.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not connection.recv(65536):
                return
    except OSError:
        pass
    finally:
        connection.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    listener.settimeout(1)
    print("listening", flush=True)
    started = time.monotonic()
    served = 0
    while served < 200 and time.monotonic() - started < 120:
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        served += 1
        threading.Thread(target=serve, args=(mode, connection), daemon=True).start()
    listener.close()


if __name__ == "__main__":
    main()
