// AuditLog: lines are written whole, in order, with the node's name.
#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/strings.h"
#include "testing/temp_dir.h"

namespace lakegate::audit {
namespace {

TEST(AuditLogTest, EveryLineAfterSetNodeNamesTheNode) {
  testing::TempDir dir;
  const std::string path = dir.File("audit.log");
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    (*log)->Record(R"({"event":"before"})");
    (*log)->SetNode("node-\"1\"");
    (*log)->Record(R"({"event":"after","n":1})");
    (*log)->Flush();
    EXPECT_EQ((*log)->written_lines(), 2u);
  }
  Result<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "{\"event\":\"before\"}\n"
            "{\"event\":\"after\",\"n\":1,\"node\":\"node-\\\"1\\\"\"}\n");
}

}  // namespace
}  // namespace lakegate::audit
