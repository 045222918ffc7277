"""Instruments, orders, matching (挂牌协议, 大宗协议, 单向竞价), settlement, market data (later issue)."""
