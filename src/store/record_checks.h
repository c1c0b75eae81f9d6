// The checks every Store backend makes on a record before writing it, so
// that all backends refuse the same records with the same messages
// (store.h documents them). Pure, thread-safe.
#pragma once

#include "common/status.h"
#include "store/store.h"

namespace lakegate::store {

// InvalidArgument when the client id or the name is empty.
Status CheckClientRecord(const ClientRecord& client);

// InvalidArgument when the access key id, the client id or the ciphertext is
// empty.
Status CheckAccessKeyRecord(const AccessKeyRecord& key);

// InvalidArgument on an empty identifier, a scope without a name, or a scope
// declared twice.
Status CheckResourceServerRecord(const ResourceServerRecord& server);

}  // namespace lakegate::store
