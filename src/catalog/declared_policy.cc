#include "catalog/declared_policy.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

#include "common/strings.h"
#include "policy/policy_json.h"
#include "policy/validate.h"

namespace lakegate::catalog {
namespace {

std::string TagIdentity(const policy::TagAssignment& a) {
  return "tag\t" + AsciiLower(policy::ResourceName(a.database, a.table, a.column)) + "\t" + a.key;
}

std::vector<std::string> SplitManagedNames(std::string_view setting) {
  std::vector<std::string> names;
  for (std::string_view line : SplitNonEmpty(setting, '\n')) names.emplace_back(line);
  return names;
}

// Replaces the element `same` finds with `value`, or appends it.
template <typename T, typename Same>
void Upsert(std::vector<T>& list, const T& value, Same same) {
  auto it = std::find_if(list.begin(), list.end(), same);
  if (it != list.end()) {
    *it = value;
  } else {
    list.push_back(value);
  }
}

}  // namespace

std::vector<std::string> ManagedPolicyNames(const policy::PolicySnapshot& declared) {
  std::vector<std::string> names;
  for (const auto& [name, role] : declared.roles) names.push_back("role\t" + name);
  for (const auto& [name, filter] : declared.filters) names.push_back("filter\t" + name);
  for (const auto& k : declared.tag_keys) names.push_back("tagkey\t" + k.key);
  for (const auto& a : declared.tag_assignments) names.push_back(TagIdentity(a));
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::string>> LoadManagedPolicyNames(store::Store& store) {
  LG_ASSIGN_OR_RETURN(std::optional<std::string> setting, store.GetSetting(kManagedPolicySetting));
  if (!setting) return std::vector<std::string>();
  return SplitManagedNames(*setting);
}

policy::PolicySnapshot MergeDeclaredPolicy(const policy::PolicySnapshot& current,
                                           const std::vector<std::string>& previously_managed,
                                           const policy::PolicySnapshot& declared) {
  std::set<std::string> old_managed(previously_managed.begin(), previously_managed.end());
  policy::PolicySnapshot next = current;
  // Drop what the previous apply owned; the declared objects come back below.
  std::erase_if(next.roles,
                [&](const auto& r) { return old_managed.contains("role\t" + r.first); });
  std::erase_if(next.filters,
                [&](const auto& f) { return old_managed.contains("filter\t" + f.first); });
  std::erase_if(next.tag_keys,
                [&](const policy::TagKey& k) { return old_managed.contains("tagkey\t" + k.key); });
  std::erase_if(next.tag_assignments, [&](const policy::TagAssignment& a) {
    return old_managed.contains(TagIdentity(a));
  });
  for (const auto& [name, role] : declared.roles) next.roles.insert_or_assign(name, role);
  for (const auto& [name, filter] : declared.filters) next.filters.insert_or_assign(name, filter);
  for (const policy::TagKey& k : declared.tag_keys) {
    Upsert(next.tag_keys, k, [&](const policy::TagKey& e) { return e.key == k.key; });
  }
  for (const policy::TagAssignment& a : declared.tag_assignments) {
    std::string id = TagIdentity(a);
    Upsert(next.tag_assignments, a,
           [&](const policy::TagAssignment& e) { return TagIdentity(e) == id; });
  }
  return next;
}

Result<PolicyUpdate> ApplyDeclaredPolicy(store::Store& store,
                                         const policy::PolicySnapshot& declared,
                                         std::string_view author, bool dry_run) {
  LG_ASSIGN_OR_RETURN(auto latest, store.LatestPolicy());
  std::shared_ptr<const policy::PolicySnapshot> current =
      std::make_shared<const policy::PolicySnapshot>();
  bool unreadable = false;
  if (latest) {
    auto stored = ReadStoredVersion(latest->first, latest->second);
    if (stored.ok()) {
      current = *stored;
    } else {
      // A damaged document must not block the way to repair it.
      unreadable = true;
      auto empty = std::make_shared<policy::PolicySnapshot>();
      empty->version = latest->first;
      current = std::move(empty);
    }
  }
  LG_ASSIGN_OR_RETURN(std::optional<std::string> setting, store.GetSetting(kManagedPolicySetting));
  policy::PolicySnapshot next = MergeDeclaredPolicy(
      *current, setting ? SplitManagedNames(*setting) : std::vector<std::string>(), declared);
  LG_RETURN_IF_ERROR(policy::ValidatePolicy(next));

  PolicyUpdate update;
  update.old_version = update.new_version = current->version;
  update.policy = current;
  std::string json = policy::PolicyToJson(next);
  if (!latest || unreadable || json != latest->second) {
    update.changes = policy::DescribePolicyChanges(*current, next);
    if (unreadable) update.changes.insert(update.changes.begin(), "replaces an unreadable version");
    update.new_version = current->version + 1;
    if (!dry_run) {
      // Versions count up from the newest ever saved: the store names the number.
      LG_ASSIGN_OR_RETURN(update.new_version, store.SavePolicy(json, author));
      LG_ASSIGN_OR_RETURN(update.policy, ReadStoredVersion(update.new_version, json));
    }
  }
  std::string managed = Join(ManagedPolicyNames(declared), "\n");
  if (!dry_run && (!setting || *setting != managed)) {
    LG_RETURN_IF_ERROR(store.PutSetting(kManagedPolicySetting, managed));
  }
  return update;
}

std::string ManagedNote(const std::vector<std::string>& managed, std::string_view kind,
                        std::string_view name) {
  std::string id = std::string(kind) + "\t" + std::string(name);
  if (std::find(managed.begin(), managed.end(), id) == managed.end()) return "";
  return "note: " + std::string(kind) + " " + std::string(name) +
         " is declared in the stack file; the next `lakegate apply` puts it back as the file "
         "says (edit the file to make this change permanent)\n";
}

}  // namespace lakegate::catalog
