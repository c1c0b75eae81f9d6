// The one-time identifiers of Store::RememberOnce (client assertion and DPoP
// proof jtis), kept in a file of their own beside the state store: a token
// request with an assertion writes one row, and in the state store's file
// that write would move every node's change counter (PRAGMA data_version) and
// make them all reload their snapshots for nothing. The file holds no
// secrets; it is still created with mode 0600.
//
// synchronous=NORMAL in WAL mode: a power cut may forget the last few
// identifiers, each of which expires within minutes anyway; a crash of the
// process forgets nothing. Concurrent callers in one process share one
// transaction (group commit: whoever finds the file idle writes every record
// waiting at that moment), so the cost of a commit is paid once per batch, not
// once per token request; processes serialize on SQLite's write lock (busy
// timeout).
//
// Private to src/store/sqlite. Not thread-safe: the store serializes calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace lakegate::store::sqlite {

// The replay file that belongs to the state store at `state_path`:
// "<dir>/state.replay.db" for "<dir>/state.db" (any other name gets
// ".replay" appended); ":memory:" for ":memory:".
std::string ReplayPathFor(const std::string& state_path);

// Opens or creates the replay file (0600, WAL, hardened like the store).
// FailedPrecondition / Unavailable with advice as OpenSqliteStore.
Result<std::unique_ptr<Connection>> OpenReplayFile(const std::string& path, int busy_timeout_ms);

// One Store::RememberOnce call waiting for its batch.
struct OnceRecord {
  std::string_view key;
  int64_t expires_at = 0;
  int64_t now = 0;
  Result<bool> result = false;  // set by RememberAll
  bool done = false;            // set by the store once `result` is final
};

// Store::RememberOnce for every record of `batch`, in order, in one
// transaction on `conn`: a key repeated within the batch is a replay of the
// first. When the transaction fails every record gets the error. Every 1024th
// batch also forgets records that expired by the first record's `now`.
void RememberAll(Connection& conn, std::vector<OnceRecord*>& batch, uint64_t batch_number);

}  // namespace lakegate::store::sqlite
