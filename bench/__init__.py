"""Benchmarks for wagate: webhook ingest (wrk), gRPC SendMessage throughput, realtime
latency and fan-out, and bot overhead, each against a bare Sanic baseline in the same run.

Run with `make bench`; bench/README.md explains every command, the latest results and
what was tried.
"""
