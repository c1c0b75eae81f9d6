// The demo stack of architecture §3: the Cognito + Lake Formation setup lakegate replaces
// (resource server athena-api, clients etl-service, reporting-service and
// monitoring-service) as a stack file that `lakegate demo` writes on first run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakegate::app {

// The stack file text for a demo listening on `port`. A non-empty
// `state_url` (a shared state store, e.g. postgresql://...) is recorded as
// `state: {url: ...}`, so admin commands with `--config DIR/stack.yaml` act on
// that store.
std::string DemoStackYaml(int port, std::string_view state_url = {});

// Creates DIR and DIR/stack.yaml on first run (an existing stack.yaml is kept,
// so later runs reuse the stack, and a second node started with the same DIR
// and state URL joins it). A stack file that records a state URL may hold its
// password, so it is written 0600. Returns the stack file's path.
Result<std::string> PrepareDemoDir(const std::string& dir, int port,
                                   std::string_view state_url = {});

inline constexpr int64_t kDemoMembers = 1000;

// Creates analytics.members with 1,000 deterministic rows in `lake_dir` when
// it does not exist yet.
Status PrepareDemoData(const std::string& lake_dir);

}  // namespace lakegate::app
