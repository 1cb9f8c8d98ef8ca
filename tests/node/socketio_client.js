#!/usr/bin/env node
// A Socket.IO client (socket.io-client) for wagate's realtime server, used by the tests.
//
// Usage:
//   node socketio_client.js --url http://127.0.0.1:8080 --token TOKEN [--transport websocket|polling]
//        [--after EVENT_ID] [--join CONVERSATION_ID]... [--count N] [--timeout MS]
//
// Prints one JSON object per line on stdout:
//   {"connected": true}                              once connected
//   {"ack": "join:conversation", "data": {...}}      the answer to each --join
//   {"ready": true}                                  after every join was answered
//   {"event": "message:new", "data": {...}}          each event received, in order
// Exits 0 after --count events (or after --timeout ms with "timeout": true), and 1 with
// {"connect_error": {"message": ..., "data": ...}} when the server refuses the connection.
'use strict';

const { io } = require('socket.io-client');

function parseArgs(argv) {
  const opts = { transport: 'websocket', join: [], count: Infinity, timeout: 15000 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (name === 'join') opts.join.push(value);
    else if (name === 'count' || name === 'timeout') opts[name] = Number(value);
    else opts[name] = value;
  }
  if (!opts.url || !opts.token) throw new Error('--url and --token are required');
  return opts;
}

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const auth = { token: opts.token };
  if (opts.after !== undefined) auth.after_event_id = opts.after;
  const socket = io(opts.url, { auth, transports: [opts.transport], reconnection: false });
  let received = 0;
  const finish = (code, extra) => {
    if (extra) out(extra);
    socket.close();
    clearTimeout(timer);
    process.exitCode = code;
  };
  const timer = setTimeout(() => finish(0, { timeout: true }), opts.timeout);

  socket.on('connect_error', (err) => finish(1, { connect_error: { message: err.message, data: err.data } }));
  socket.on('connect', async () => {
    out({ connected: true, transport: socket.io.engine.transport.name });
    for (const id of opts.join) {
      const answer = await socket.emitWithAck('join:conversation', id);
      out({ ack: 'join:conversation', data: answer });
    }
    out({ ready: true });
  });
  socket.onAny((event, data) => {
    out({ event, data });
    received += 1;
    if (received >= opts.count) finish(0);
  });
  socket.on('disconnect', (reason) => {
    if (process.exitCode === undefined) finish(0, { disconnected: reason });
  });
}

try {
  main();
} catch (err) {
  process.stderr.write(`socketio_client.js: ${err.message}\n`);
  process.exit(2);
}
