#!/usr/bin/env node
// Streams events from wagate's gRPC EventService.StreamEvents (@grpc/grpc-js), for the tests.
//
// Usage:
//   node stream_events.js --target 127.0.0.1:50051 --key KEY [--after EVENT_ID]
//        [--channel ID]... [--conversation ID]... [--kind EVENT_KIND_MESSAGE_NEW]...
//        [--count N] [--timeout MS]
//
// Prints {"metadata": true} once the server has subscribed the stream, then each Event as
// one JSON line (proto field names, enums as names, 64-bit integers as strings). Exits 0
// after --count events or --timeout ms ({"timeout": true}); on an RPC error prints
// {"code": <number>, "name": "<STATUS>", "details": "..."} and exits 1.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
const PROTO_FILE = path.join(PROTO_ROOT, 'wagate', 'v1', 'event_service.proto');

function parseArgs(argv) {
  const opts = { channel: [], conversation: [], kind: [], count: Infinity, timeout: 15000 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (Array.isArray(opts[name])) opts[name].push(value);
    else if (name === 'count' || name === 'timeout') opts[name] = Number(value);
    else opts[name] = value;
  }
  if (!opts.target || !opts.key) throw new Error('--target and --key are required');
  return opts;
}

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function statusName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) || 'UNKNOWN';
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const definition = protoLoader.loadSync(PROTO_FILE, {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const wagate = grpc.loadPackageDefinition(definition).wagate.v1;
  const client = new wagate.EventService(opts.target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${opts.key}`);
  const request = {
    channel_ids: opts.channel,
    conversation_ids: opts.conversation,
    kinds: opts.kind,
  };
  if (opts.after !== undefined) request.after_event_id = opts.after;

  const call = client.StreamEvents(request, metadata);
  let received = 0;
  let done = false;
  const finish = (code, extra) => {
    if (done) return;
    done = true;
    if (extra) out(extra);
    clearTimeout(timer);
    call.cancel();
    client.close();
    process.exitCode = code;
  };
  const timer = setTimeout(() => finish(0, { timeout: true }), opts.timeout);
  call.on('metadata', () => out({ metadata: true }));
  call.on('data', (event) => {
    out(event);
    received += 1;
    if (received >= opts.count) finish(0);
  });
  call.on('error', (err) => {
    if (!done) finish(1, { code: err.code, name: statusName(err.code), details: err.details });
  });
  call.on('end', () => finish(0, { end: true }));
}

try {
  main();
} catch (err) {
  process.stderr.write(`stream_events.js: ${err.message}\n`);
  process.exit(2);
}
