"""A chat connection's frame allowance, the same for visitors and operators.

Every frame a client sends after its hello (typing, ping, invalid ones too) spends one; the allowance
refills at chat_frames_per_second up to chat_frame_burst. Kept in the connection, so it costs no Redis
round trip, and a flood of any kind gets rate-limited errors, then the close."""

from __future__ import annotations


class FrameBudget:
    __slots__ = ("allowance", "last")

    def __init__(self, burst: int) -> None:
        self.allowance = float(burst)  # frames the connection may send now (a token bucket)
        self.last = 0.0  # loop time of the last frame

    def spend(self, now: float, per_second: float, burst: int) -> bool:
        """Count one frame at loop time `now`; False when none is left."""
        self.allowance = min(float(burst), self.allowance + (now - self.last) * per_second)
        self.last = now
        if self.allowance < 1.0:
            return False
        self.allowance -= 1.0
        return True

    def retry_after(self, per_second: float) -> int:
        """Whole seconds until the next frame is allowed again."""
        return max(1, int((1.0 - self.allowance) / per_second) + 1)
