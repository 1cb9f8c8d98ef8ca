"""Benchmarks for wagate: webhook ingest (wrk) and gRPC SendMessage throughput.

Run with `make bench` or `.venv/bin/python -m bench [--quick] [--only ingest|send]`.
"""
