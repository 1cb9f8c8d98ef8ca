#!/usr/bin/env node
// An example remote bot plugin for wagate, over BotService.Connect (bidirectional gRPC).
//
// Usage:
//   node remote_bot.js --target 127.0.0.1:50051 --key KEY --name echo [--priority 500]
//        [--channel ID] [--drop-first]
//
// It registers, then answers every inbound text:
//   "handoff ..." → a handoff action (a human takes over),
//   "pass ..."    → a pass action (the next plugin in the chain answers),
//   anything else → sends "echo: <text>" back to the contact.
// With --drop-first it exits on its first delivery without answering it, so the
// gateway redelivers that event when a bot with the same name connects again.
// It prints one JSON line per stream event on stdout ({"registered": ...} or
// {"delivery": id, "attempt": n, "text": ...}) so callers can follow along.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
const PROTO_FILE = path.join(PROTO_ROOT, 'wagate', 'v1', 'bot_service.proto');

function parseArgs(argv) {
  const opts = { priority: '500', channel: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const name = arg.slice(2);
    if (name === 'drop-first') { opts.dropFirst = true; continue; }
    const value = argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (name === 'channel') opts.channel.push(value); else opts[name] = value;
  }
  for (const key of ['target', 'key', 'name']) {
    if (!opts[key]) throw new Error(`--${key} is required`);
  }
  return opts;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`remote_bot.js: ${err.message}\n`);
    process.exit(2);
  }
  const definition = protoLoader.loadSync(PROTO_FILE, {
    includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const wagate = grpc.loadPackageDefinition(definition).wagate.v1;
  const client = new wagate.BotService(opts.target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${opts.key}`);
  const call = client.Connect(metadata);

  call.on('data', (event) => {
    if (event.registered) {
      console.log(JSON.stringify({ registered: event.registered }));
      return;
    }
    const delivery = event.delivery;
    const message = delivery.event.message_new;
    const text = (message.text && message.text.body) || '';
    console.log(JSON.stringify({ delivery: delivery.delivery_id, attempt: delivery.attempt, text }));
    if (opts.dropFirst) {
      process.exit(0); // never acknowledged: the gateway must redeliver it
    }
    let action;
    if (text.toLowerCase().startsWith('handoff')) action = { handoff: { note: 'asked for a human' } };
    else if (text.toLowerCase().startsWith('pass')) action = { pass: {} };
    else action = { send: { text: { body: `echo: ${text}` } } };
    call.write({ reply: { delivery_id: delivery.delivery_id, actions: [action] } });
  });
  call.on('error', (err) => {
    process.stderr.write(JSON.stringify({ code: err.code, details: err.details }) + '\n');
    process.exit(1);
  });
  call.on('end', () => process.exit(0));
  process.on('SIGTERM', () => { call.end(); process.exit(0); });

  call.write({ register: { name: opts.name, priority: Number(opts.priority), channel_ids: opts.channel } });
}

main();
