#include "app/policy_admin.h"

#include <algorithm>
#include <set>

#include "common/strings.h"
#include "policy/policy_json.h"

namespace lakegate::app {
namespace {

std::string TagIdentity(const policy::TagAssignment& a) {
  return "tag\t" + AsciiLower(policy::ResourceName(a.database, a.table, a.column)) + "\t" + a.key;
}

}  // namespace

Result<std::shared_ptr<const policy::PolicySnapshot>> LoadLatestPolicy(store::Store& store) {
  LG_ASSIGN_OR_RETURN(auto latest, store.LatestPolicy());
  auto snapshot = std::make_shared<policy::PolicySnapshot>();
  if (!latest) return std::shared_ptr<const policy::PolicySnapshot>(std::move(snapshot));
  Result<policy::PolicySnapshot> parsed = policy::PolicyFromJson(latest->second);
  if (!parsed.ok()) {
    return parsed.status().WithPrefix("policy version " + std::to_string(latest->first) +
                                      " in the state store is unreadable");
  }
  *snapshot = std::move(*parsed);
  snapshot->version = latest->first;
  return std::shared_ptr<const policy::PolicySnapshot>(std::move(snapshot));
}

Result<PolicyUpdate> UpdatePolicy(store::Store& store, const std::string& author,
                                  const std::function<Status(policy::PolicySnapshot&)>& change) {
  PolicyUpdate update;
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    update = PolicyUpdate{};
    LG_ASSIGN_OR_RETURN(auto current, LoadLatestPolicy(tx));
    update.old_version = update.new_version = current->version;
    policy::PolicySnapshot next = *current;
    LG_RETURN_IF_ERROR(change(next));
    LG_RETURN_IF_ERROR(policy::ValidatePolicy(next));
    std::string json = policy::PolicyToJson(next);
    if (current->version != 0 && json == policy::PolicyToJson(*current)) return Status::Ok();
    update.changes = policy::DescribePolicyChanges(*current, next);
    LG_ASSIGN_OR_RETURN(update.new_version, tx.SavePolicy(json, author));
    return Status::Ok();
  }));
  return update;
}

std::vector<std::string> ManagedPolicyNames(const config::StackConfig& stack) {
  std::vector<std::string> names;
  for (const auto& r : stack.roles) names.push_back("role\t" + r.name);
  for (const auto& f : stack.filters) names.push_back("filter\t" + f.name);
  for (const auto& k : stack.tag_keys) names.push_back("tagkey\t" + k.key);
  for (const auto& a : stack.tag_assignments) names.push_back(TagIdentity(a));
  std::sort(names.begin(), names.end());
  return names;
}

policy::PolicySnapshot MergeStackPolicy(const policy::PolicySnapshot& current,
                                        const std::vector<std::string>& previously_managed,
                                        const config::StackConfig& stack) {
  std::set<std::string> old_managed(previously_managed.begin(), previously_managed.end());
  policy::PolicySnapshot next = current;
  // Drop what the previous apply owned; the file's objects come back below.
  for (auto it = next.roles.begin(); it != next.roles.end();) {
    it = old_managed.count("role\t" + it->first) ? next.roles.erase(it) : std::next(it);
  }
  for (auto it = next.filters.begin(); it != next.filters.end();) {
    it = old_managed.count("filter\t" + it->first) ? next.filters.erase(it) : std::next(it);
  }
  std::erase_if(next.tag_keys,
                [&](const policy::TagKey& k) { return old_managed.count("tagkey\t" + k.key) > 0; });
  std::erase_if(next.tag_assignments, [&](const policy::TagAssignment& a) {
    return old_managed.count(TagIdentity(a)) > 0;
  });
  for (const auto& r : stack.roles) next.roles.insert_or_assign(r.name, r);
  for (const auto& f : stack.filters) next.filters.insert_or_assign(f.name, f);
  for (const auto& k : stack.tag_keys) {
    auto it = std::find_if(next.tag_keys.begin(), next.tag_keys.end(),
                           [&](const policy::TagKey& e) { return e.key == k.key; });
    if (it != next.tag_keys.end()) {
      *it = k;
    } else {
      next.tag_keys.push_back(k);
    }
  }
  for (const auto& a : stack.tag_assignments) {
    std::string id = TagIdentity(a);
    auto it = std::find_if(next.tag_assignments.begin(), next.tag_assignments.end(),
                           [&](const policy::TagAssignment& e) { return TagIdentity(e) == id; });
    if (it != next.tag_assignments.end()) {
      *it = a;
    } else {
      next.tag_assignments.push_back(a);
    }
  }
  return next;
}

std::string ManagedNote(const std::vector<std::string>& managed, const std::string& kind,
                        const std::string& name) {
  if (std::find(managed.begin(), managed.end(), kind + "\t" + name) == managed.end()) return "";
  return "note: " + kind + " " + name +
         " is declared in the stack file; the next `lakegate apply` puts it back as the file "
         "says (edit the file to make this change permanent)\n";
}

}  // namespace lakegate::app
