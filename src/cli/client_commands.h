// Client-side subcommands: `lakegate token` (the client-credentials grant,
// with a per-user token cache) and `lakegate query` (runs SQL through the
// query API and prints a table, JSON or CSV). Flags, environment and output
// only: the requests, the token cache and the retry are the client library's
// (src/client).
//
// Endpoint and credentials come from flags, else from the environment:
// LAKEGATE_ENDPOINT, LAKEGATE_CLIENT_ID, LAKEGATE_CLIENT_SECRET,
// LAKEGATE_SECRETS_FILE (the demo's {"client_id","client_secret"} JSON file).
// Tokens are cached in $XDG_CACHE_HOME/lakegate (else ~/.cache/lakegate), one
// 0600 file per (endpoint, client_id, scope), until 60 s before they expire.
// The client secret is never printed or written anywhere.
#pragma once

#include <CLI/CLI.hpp>

namespace lakegate::cli {

void AddTokenCommand(CLI::App& app);
void AddQueryCommand(CLI::App& app);

}  // namespace lakegate::cli
