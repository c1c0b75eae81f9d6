#include "engine/engine.h"

namespace lakegate::engine {

std::string_view StatementClassName(StatementClass c) {
  switch (c) {
    case StatementClass::kRead:
      return "read";
    case StatementClass::kWrite:
      return "write";
    case StatementClass::kAdmin:
      return "admin";
  }
  return "unknown";
}

}  // namespace lakegate::engine
