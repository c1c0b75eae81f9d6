// The demo stack of architecture §3: the Cognito + Lake Formation setup lakegate replaces
// (resource server athena-api, clients etl-service, reporting-service and
// monitoring-service) as a stack file that `lakegate demo` writes on first run.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace lakegate::app {

// The stack file text for a demo listening on `port`.
std::string DemoStackYaml(int port);

// Creates DIR and DIR/stack.yaml on first run (an existing stack.yaml is kept,
// so later runs reuse the stack). Returns the stack file's path.
Result<std::string> PrepareDemoDir(const std::string& dir, int port);

inline constexpr int64_t kDemoMembers = 1000;

// Creates analytics.members with 1,000 deterministic rows in `lake_dir` when
// it does not exist yet.
Status PrepareDemoData(const std::string& lake_dir);

}  // namespace lakegate::app
