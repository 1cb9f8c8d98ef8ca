#!/usr/bin/env node
// Sends one text message through wagate's gRPC MessagingService.SendMessage.
//
// Usage:
//   node send_text.js --target 127.0.0.1:50051 --key KEY --channel CHANNEL --to +1555... \
//        --text "hello" [--idempotency-key KEY] [--reply-to WAMID]
// Each option falls back to an environment variable: WAGATE_GRPC_TARGET, WAGATE_API_KEY,
// WAGATE_CHANNEL, WAGATE_TO, WAGATE_TEXT, WAGATE_IDEMPOTENCY_KEY, WAGATE_REPLY_TO.
//
// On success the SendMessageResponse is printed on stdout as JSON (proto field names,
// enums as names, 64-bit integers as strings) and the exit code is 0. On an RPC error,
// {"code": <number>, "name": "<STATUS>", "details": "..."} goes to stderr and the exit
// code is 1; a usage error exits with 2.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
const PROTO_FILE = path.join(PROTO_ROOT, 'wagate', 'v1', 'messaging_service.proto');

const OPTIONS = {
  target: 'WAGATE_GRPC_TARGET',
  key: 'WAGATE_API_KEY',
  channel: 'WAGATE_CHANNEL',
  to: 'WAGATE_TO',
  text: 'WAGATE_TEXT',
  'idempotency-key': 'WAGATE_IDEMPOTENCY_KEY',
  'reply-to': 'WAGATE_REPLY_TO',
};
const REQUIRED = ['target', 'key', 'channel', 'to', 'text'];

function usage(message) {
  process.stderr.write(`send_text.js: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) usage(`unexpected argument '${arg}'`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else {
      i += 1;
      if (i >= argv.length) usage(`--${name} needs a value`);
      value = argv[i];
    }
    if (!(name in OPTIONS)) usage(`unknown option --${name}`);
    opts[name] = value;
  }
  for (const [name, env] of Object.entries(OPTIONS)) {
    if (opts[name] === undefined && process.env[env] !== undefined) opts[name] = process.env[env];
  }
  for (const name of REQUIRED) {
    if (!opts[name]) usage(`--${name} (or ${OPTIONS[name]}) is required`);
  }
  return opts;
}

function statusName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) || 'UNKNOWN';
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const definition = protoLoader.loadSync(PROTO_FILE, {
    includeDirs: [PROTO_ROOT],
    keepCase: true, // field names exactly as in the .proto (snake_case)
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const wagate = grpc.loadPackageDefinition(definition).wagate.v1;
  const client = new wagate.MessagingService(opts.target, grpc.credentials.createInsecure());

  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${opts.key}`);
  const request = {
    channel_id: opts.channel,
    to: opts.to,
    text: { body: opts.text },
  };
  if (opts['idempotency-key']) request.idempotency_key = opts['idempotency-key'];
  if (opts['reply-to']) request.reply_to = opts['reply-to'];

  const deadline = new Date(Date.now() + 15000);
  client.SendMessage(request, metadata, { deadline }, (err, response) => {
    client.close();
    if (err) {
      const failure = { code: err.code, name: statusName(err.code), details: err.details };
      process.stderr.write(`${JSON.stringify(failure)}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${JSON.stringify(response)}\n`);
  });
}

main();
