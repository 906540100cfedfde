#include "http/admission.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace http {

Admission::Slot& Admission::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    key_ = o.key_;
    keyed_ = o.keyed_;
    o.owner_ = nullptr;
  }
  return *this;
}

void Admission::Slot::release() {
  if (owner_) {
    Admission* a = owner_;
    owner_ = nullptr;
    a->release(*this);
  }
}

size_t Admission::KeyHash::operator()(const AddressKey& k) const {
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
}

Admit Admission::admit(const AddressKey& addr, Slot* slot) {
  if (open_.fetch_add(1, std::memory_order_relaxed) >= max_ && max_ > 0) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    return Admit::kOverLimit;
  }
  bool keyed = false;
  if (max_per_address_ > 0) {
    std::lock_guard lock(mu_);
    int64_t& n = per_address_[addr];
    if (n >= max_per_address_) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      return Admit::kOverAddressLimit;
    }
    ++n;
    keyed = true;
  }
  *slot = Slot();
  slot->owner_ = this;
  slot->key_ = addr;
  slot->keyed_ = keyed;
  return Admit::kAdmitted;
}

void Admission::release(const Slot& slot) {
  if (slot.keyed_) {
    std::lock_guard lock(mu_);
    auto it = per_address_.find(slot.key_);
    if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  }
  open_.fetch_sub(1, std::memory_order_relaxed);
}

int64_t reserved_fds(int64_t fd_limit) { return std::clamp<int64_t>(fd_limit / 10, 128, 1024); }

int64_t default_max_connections(int64_t fd_limit) {
  return std::max<int64_t>(16, fd_limit - reserved_fds(fd_limit));
}

int64_t raise_fd_limit(int64_t* raised_from) {
  constexpr rlim_t kCap = 1 << 20;
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    *raised_from = 1024;
    return 1024;
  }
  *raised_from = rl.rlim_cur == RLIM_INFINITY ? int64_t(kCap) : int64_t(rl.rlim_cur);
  rlim_t want = rl.rlim_max == RLIM_INFINITY ? kCap : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    struct rlimit next = rl;
    next.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &next) == 0) return int64_t(want);
  }
  return *raised_from;
}

}  // namespace http
