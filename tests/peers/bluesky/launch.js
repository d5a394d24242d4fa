// Start Bluesky's reference network (@atproto/dev-env: PLC, PDS, AppView, bsync, ozone) on
// loopback, print one JSON line with the services' URLs, and run until stdin closes or SIGTERM.
// Started by tests/peers/bluesky.py with NODE_PATH at the cached install and loopback.js preloaded.
// Postgres comes from DB_POSTGRES_URL and DB_POSTGRES_SCHEMA; REDIS_HOST is only checked for.
'use strict'
const { TestNetwork } = require('@atproto/dev-env')
const getPort = require('get-port')

async function main () {
  // The AppView's own URL as its public one: image URLs then point at the AppView itself, which
  // serves them (from the PDS's blobs), instead of at a public CDN host.
  const bskyPort = await getPort()
  const network = await TestNetwork.create({
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA,
    bsky: { port: bskyPort, publicUrl: `http://127.0.0.1:${bskyPort}` }
  })
  let closing = false
  const close = async () => {
    if (closing) return
    closing = true
    try { await network.close() } finally { process.exit(0) }
  }
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
  process.stdin.on('end', close)
  process.stdin.resume()
  process.stdout.write(JSON.stringify({
    ready: true, pds: network.pds.url, appview: network.bsky.url, plc: network.plc.url
  }) + '\n')
}

main().catch((err) => {
  process.stderr.write(`bluesky peer: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
