// Validate XRPC outputs against Bluesky's published lexicons, with Bluesky's own validator:
// `@atproto/lexicon` over the schemas `@atproto/api` ships (the versions pinned in package-lock.json).
// Reads one JSON line per output on stdin, {"method": "app.bsky.feed.getAuthorFeed", "body": {...}}
// (or {"record": {...}} for a record, by its $type, blobs and CIDs in their JSON form), and writes one line per input: {"ok": true} or {"ok": false, "error": "<the validator's message>"}.
// Used by tests/simulator/test_bluesky.py (NODE_PATH at the cached install).
'use strict'
const readline = require('node:readline')
const { Lexicons, jsonToLex } = require('@atproto/lexicon')
const { schemas } = require('@atproto/api/dist/client/lexicons')

const lexicons = new Lexicons(schemas)
const lines = readline.createInterface({ input: process.stdin })
lines.on('line', (line) => {
  let answer
  try {
    const { method, body, record } = JSON.parse(line)
    if (record !== undefined) lexicons.assertValidRecord(record.$type, jsonToLex(record))
    else lexicons.assertValidXrpcOutput(method, jsonToLex(body))
    answer = { ok: true }
  } catch (err) {
    answer = { ok: false, error: String(err && err.message ? err.message : err) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
})
