#!/usr/bin/python3
"""A PLC on Modbus TCP for tests: pymodbus 3.0's TCP server (Debian python3-pymodbus, an independent
implementation of the Modbus Application Protocol v1.1b3 and Modbus Messaging on TCP/IP v1.0b).

Stdout, one JSON object per line, `t` in milliseconds of this process's monotonic clock:
  {"event": "listening", "port": N}
  {"event": "write", "t": ..., "table": "co" | "hr", "address": A, "values": [...]}   (every write a client made)
  {"event": "refused", "t": ..., "table": ..., "address": A, "values": [...]}          (a write answered with exception 4)
  {"event": "set", "t": ..., "table": ..., "address": A, "values": [...], "id": ...}   (a stdin `set` applied)
Stdin, one JSON command per line:
  {"cmd": "set", "table": "co" | "di" | "hr" | "ir", "address": A, "values": [...], "id": ...}  (the plant changes an input)
  {"cmd": "refuse", "on": true}   answer every write with exception 4 (slave device failure), as a PLC in STOP does
  {"cmd": "delay", "ms": 200}     take this long over every request (one at a time, as a PLC's scan cycle does)

Sharp edges kept from real devices: addresses are 0-based on the wire (zero_mode), requests on one
connection are served one after the other, and a restarted PLC starts with every coil and register at 0.
"""
import argparse
import asyncio
import json
import sys
import threading
import time

# pymodbus.server imports pyserial and pyserial-asyncio for its serial server (Debian python3-serial-asyncio)
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer

SIZE = 2000
state = {"refuse": False, "delay_ms": 0}


def now_ms():
    return time.monotonic_ns() / 1e6


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Block(ModbusSequentialDataBlock):
    """A table whose client writes are logged (and refused or slowed on command)."""

    def __init__(self, table):
        super().__init__(0, [0] * SIZE)
        self.table = table

    def getValues(self, address, count=1):
        if state["delay_ms"]:
            time.sleep(state["delay_ms"] / 1000)
        return super().getValues(address, count)

    def setValues(self, address, values):
        if state["delay_ms"]:
            time.sleep(state["delay_ms"] / 1000)
        values = [int(v) for v in (values if isinstance(values, list) else [values])]
        if state["refuse"]:
            emit({"event": "refused", "t": now_ms(), "table": self.table, "address": address, "values": values})
            raise RuntimeError("writes refused")
        super().setValues(address, values)
        emit({"event": "write", "t": now_ms(), "table": self.table, "address": address, "values": values})

    def plant_set(self, address, values):
        super().setValues(address, values)


def command(line, blocks):
    msg = json.loads(line)
    if msg["cmd"] == "set":
        blocks[msg["table"]].plant_set(msg["address"], msg["values"])
        emit({"event": "set", "t": now_ms(), "table": msg["table"], "address": msg["address"], "values": msg["values"], "id": msg.get("id")})
    elif msg["cmd"] == "refuse":
        state["refuse"] = bool(msg["on"])
        emit({"event": "refuse", "on": state["refuse"]})
    elif msg["cmd"] == "delay":
        state["delay_ms"] = int(msg["ms"])
        emit({"event": "delay", "ms": state["delay_ms"]})


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    blocks = {name: Block(name) for name in ("co", "di", "hr", "ir")}
    slave = ModbusSlaveContext(zero_mode=True, **blocks)
    context = ModbusServerContext(slaves=slave, single=True)
    server = ModbusTcpServer(context, address=("127.0.0.1", args.port), allow_reuse_address=True)
    loop = asyncio.get_running_loop()

    def read_stdin():
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(command, line, blocks)
        loop.call_soon_threadsafe(loop.stop)

    task = asyncio.create_task(server.serve_forever())
    await server.serving
    emit({"event": "listening", "port": server.server.sockets[0].getsockname()[1]})
    threading.Thread(target=read_stdin, daemon=True).start()
    await task


try:
    asyncio.run(main())
except RuntimeError:
    pass  # the loop stopped because stdin closed: the test is over
