#!/usr/bin/env node
// Onboards a customer through wagate's gRPC AdminService, then acts as that customer:
// CreateTenant, CreateApiKey, CreateChannel (a Meta Cloud API channel), GetChannel,
// then MessagingService.SendMessage with the new key, and one AdminService call with
// the tenant key (which must be refused with PERMISSION_DENIED).
//
// Usage:
//   node admin_client.js --target 127.0.0.1:50051 --admin-key KEY --tenant globex \
//        --channel '{"id": "globex-cloud", "provider": "meta_cloud", ...}' --to +1555... --text hi
//
// Each step prints one JSON line on stdout: {"step": "<name>", "response": {...}} (proto
// field names; a google.protobuf.Struct shown as the plain object it carries). An RPC
// error prints {"step", "error": {"code", "name", "details"}} and exits 1; a usage
// error exits 2.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
const FILES = ['admin_service.proto', 'messaging_service.proto'].map((f) =>
  path.join(PROTO_ROOT, 'wagate', 'v1', f),
);
const REQUIRED = ['target', 'admin-key', 'tenant', 'channel', 'to', 'text'];

function usage(message) {
  process.stderr.write(`admin_client.js: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) usage(`bad argument '${argv[i]}'`);
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  for (const name of REQUIRED) if (!opts[name]) usage(`--${name} is required`);
  return opts;
}

// google.protobuf.Struct <-> a plain object (the JSON mapping the REST API speaks).
// protobufjs ships the well-known types itself, with lowerCamelCase field names
// (stringValue, listValue...) whatever `keepCase` says for our own messages.
function toValue(v) {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

function toStruct(obj) {
  const fields = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v);
  return { fields };
}

function fromValue(v) {
  switch (v.kind) {
    case 'nullValue':
      return null;
    case 'listValue':
      return (v.listValue.values || []).map(fromValue);
    case 'structValue':
      return fromStruct(v.structValue);
    default:
      return v[v.kind];
  }
}

function fromStruct(s) {
  const out = {};
  for (const [k, v] of Object.entries((s && s.fields) || {})) out[k] = fromValue(v);
  return out;
}

function statusName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) || 'UNKNOWN';
}

function call(client, method, request, key) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  const deadline = new Date(Date.now() + 15000);
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline }, (err, response) =>
      err ? reject(err) : resolve(response),
    );
  });
}

function print(step, fields) {
  process.stdout.write(`${JSON.stringify({ step, ...fields })}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let channel;
  try {
    channel = JSON.parse(opts.channel);
  } catch (err) {
    usage(`--channel is not JSON: ${err.message}`);
  }
  const definition = protoLoader.loadSync(FILES, {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const wagate = grpc.loadPackageDefinition(definition).wagate.v1;
  const creds = grpc.credentials.createInsecure();
  const admin = new wagate.AdminService(opts.target, creds);
  const messaging = new wagate.MessagingService(opts.target, creds);
  const adminKey = opts['admin-key'];
  let step = 'tenant';
  try {
    const tenant = await call(admin, 'CreateTenant', { id: opts.tenant }, adminKey);
    print(step, { response: tenant });

    step = 'api_key';
    const created = await call(admin, 'CreateApiKey', { tenant_id: opts.tenant }, adminKey);
    print(step, { response: { id: created.id, key_length: created.key.length } });

    step = 'channel';
    const made = await call(
      admin,
      'CreateChannel',
      { tenant_id: opts.tenant, channel: toStruct(channel) },
      adminKey,
    );
    print(step, { response: { channel: fromStruct(made.channel) } });

    step = 'get_channel';
    const read = await call(
      admin,
      'GetChannel',
      { tenant_id: opts.tenant, channel_id: channel.id },
      adminKey,
    );
    print(step, { response: { channel: fromStruct(read.channel) } });

    step = 'send';
    const sent = await call(
      messaging,
      'SendMessage',
      { channel_id: channel.id, to: opts.to, text: { body: opts.text } },
      created.key,
    );
    print(step, { response: sent });

    step = 'tenant_key_on_admin';
    try {
      await call(admin, 'ListTenants', {}, created.key);
      print(step, { response: 'accepted' });
    } catch (err) {
      print(step, { refused: { code: err.code, name: statusName(err.code) } });
    }
  } catch (err) {
    print(step, { error: { code: err.code, name: statusName(err.code), details: err.details } });
    process.exitCode = 1;
  } finally {
    admin.close();
    messaging.close();
  }
}

main();
