"""Real network interfaces for vnet jails (filled in with the vnet step)."""

from __future__ import annotations


class Interfaces:
    def __init__(self, house):
        self.house = house

    def event(self, ev) -> None:
        pass

    def close(self) -> None:
        pass
