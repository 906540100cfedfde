#include "ws/socket_quota.h"

namespace ws {

std::shared_ptr<void> SocketQuota::acquire(const std::string& user) {
  {
    std::lock_guard lock(mu_);
    size_t& n = held_[user];
    if (max_per_user_ > 0 && n >= max_per_user_) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    ++n;
  }
  // The hold owns a reference to the quota, so it may outlive the hub that made it.
  auto self = shared_from_this();
  // (It points at the quota only so that it tests true.)
  return std::shared_ptr<void>(static_cast<void*>(this),
                               [self, user](void*) { self->release(user); });
}

size_t SocketQuota::held(const std::string& user) const {
  std::lock_guard lock(mu_);
  auto it = held_.find(user);
  return it == held_.end() ? 0 : it->second;
}

void SocketQuota::release(const std::string& user) {
  std::lock_guard lock(mu_);
  auto it = held_.find(user);
  if (it != held_.end() && --it->second == 0) held_.erase(it);
}

}  // namespace ws
